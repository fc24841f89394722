import { describe, expect, it } from 'vitest';
import { commandWord } from '../../../src/cli/main.js';

describe('commandWord: which command module a command line needs', () => {
  it('is the first argument that is not an option, -C and its folder skipped', () => {
    expect(commandWord(['log', '-n', '10'])).toBe('log');
    expect(commandWord(['-C', 'log', 'status'])).toBe('status');
    expect(commandWord(['--C', 'x', '-q', 'diff', 'v1'])).toBe('diff');
    expect(commandWord(['-C=somewhere', 'best'])).toBe('best');
  });

  it('is null for help, version, completion requests and empty lines, so every command is loaded', () => {
    expect(commandWord([])).toBeNull();
    expect(commandWord(['--help'])).toBeNull();
    expect(commandWord(['--version'])).toBeNull();
    expect(commandWord(['--get-yargs-completions', 'sta'])).toBeNull();
    expect(commandWord(['--', 'status'])).toBeNull();
  });
});

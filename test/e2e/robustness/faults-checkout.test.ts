// Fault injection at every write of checkout (exchanging names, and renaming where it cannot) and gc (the sweep
// and its checks: test/helpers/faults.ts).
import { describe, it } from 'vitest';
import { faultSweep, reportExercised, SCENARIOS } from '../../helpers/faults.js';

reportExercised();

describe('fault injection: a failure or kill at any write leaves a sound repository and whole files', () => {
  for (const s of SCENARIOS.filter((x) => ['checkout', 'checkout-rename', 'gc'].includes(x.name)))
    it(`${s.name}: every fault point`, () => faultSweep(s), 900_000);
});

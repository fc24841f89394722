// Shared by scripts/bundle.mjs and scripts/snapshot.mjs: an esbuild plugin that gives each bundled CommonJS file
// that uses __dirname (yargs finds its message catalogues with it) its own __dirname: its folder in its package,
// the package found at run time by require.resolve from mvm, through the dependency of mvm that needs it, so that
// it holds wherever npm put the package. The bundle defines `__mvmPackageDir` (PACKAGE_DIR below) in its banner.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));

/** The package folder holding `file` (the nearest package.json with a name) and the package's name. */
function packageOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const name = readJson(join(dir, 'package.json')).name;
      if (name) return { dir, name };
    } catch {
      // no package.json here: look further up
    }
  }
  throw new Error(`bundle: no package holds ${file}`);
}

/**
 * The banner's `__mvmPackageDir(chain, rel)`, given `req`, an expression for a require function of the bundle:
 * the folder `rel` in the last package of `chain`, each package resolved from the one before.
 */
export function packageDirBanner(req) {
  return [
    'const __mvmPackageDir = (chain, rel) => {',
    `  let req = ${req};`,
    "  for (const name of chain.slice(0, -1)) req = __mvmCreateRequire(req.resolve(name + '/package.json'));",
    "  return __mvmJoin(__mvmDirname(req.resolve(chain[chain.length - 1] + '/package.json')), rel);",
    '};',
  ].join('\n');
}

/** The plugin, for mvm at `root` with the packages `bundled` bundled in (the rest stay external). */
export function ownDirname(root, bundled) {
  const deps = Object.keys(readJson(join(root, 'package.json')).dependencies ?? {});
  const requireHere = createRequire(join(root, 'package.json'));
  /** How run time finds package `name`: mvm's own dependency, or one that a bundled dependency of mvm requires. */
  function chainTo(name) {
    if (deps.includes(name)) return [name];
    for (const d of bundled) {
      let pkg;
      try {
        pkg = readJson(requireHere.resolve(`${d}/package.json`));
      } catch {
        continue; // a package whose exports hide its package.json (@noble/hashes) has no dependencies to ask
      }
      if (pkg.dependencies?.[name]) return [d, name];
    }
    throw new Error(`bundle: ${name} uses __dirname but is not a dependency of mvm or of a bundled dependency`);
  }
  return {
    name: 'own-dirname',
    setup(b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        // an ES module has no __filename either, and nothing here gives one: refuse rather than fail at run time
        if (/\b__filename\b/.test(text))
          throw new Error(`bundle: ${args.path} uses __filename; leave its package external`);
        if (!/\b__dirname\b/.test(text)) return undefined;
        const pkg = packageOf(args.path);
        const rel = relative(pkg.dir, dirname(args.path)).split(sep).join('/');
        return {
          contents:
            `var __dirname = __mvmPackageDir(${JSON.stringify(chainTo(pkg.name))}, ` +
            `${JSON.stringify(rel)});\n${text}`,
          loader: 'js',
        };
      });
    },
  };
}

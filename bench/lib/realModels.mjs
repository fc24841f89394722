// The real model files of `npm run bench:real`: files that public npm packages ship, fetched at run time with
// `npm pack NAME@VERSION` into a cache outside the repository ($MVM_BENCH_CACHE, else ~/.cache/mvm-bench), each
// tarball and each file checked against the sha256 written here. Nothing fetched is ever committed to this repo.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The packages, each with the sha256 of its tarball and the files the bench takes from it (path in the tarball,
 * size, sha256). A package whose tarball or file no longer matches fails the bench: the set must not drift.
 */
export const PACKAGES = [
  {
    spec: '@ricky0123/vad-web@0.0.22',
    sha256: 'cbfad798484fdcba028087eb3646a19b815266af043aa79b24415db4fa0a1cfa',
    files: {
      'package/dist/silero_vad_v5.onnx': [2327524, '2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f'],
    },
  },
  {
    spec: '@ricky0123/vad-web@0.0.31',
    sha256: 'd1a211cf1a2ed26297da52cc08de79e75d79838a274bfc6de546feb1f828c940',
    files: {
      'package/dist/silero_vad_legacy.onnx': [
        1807522,
        'a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28',
      ],
      'package/dist/silero_vad_v6.onnx': [2327524, '1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3'],
    },
  },
  {
    spec: '@mediapipe/hands@0.4.1675469240',
    sha256: 'bdd5be939c60cbd72a49f4b6141407683cf2a67263598e1a44757d70b3dfcb8a',
    files: {
      'package/hand_landmark_full.tflite': [
        5478688,
        '8c026882c9ec059ce0f8e75266bee5a9a23c341a40e0000df755374d3d1b9b68',
      ],
      'package/hand_landmark_lite.tflite': [
        2071408,
        'd7fde8ac11f8ce03f8663775bfc323f4fc9f2a38062b4f4efa142874ef5b2a48',
      ],
    },
  },
  {
    spec: '@mediapipe/face_detection@0.4.1657300184',
    sha256: 'a118cde74923dc4435257fbfbb613464a0f58d115dff6314d4ff96c8aebf6419',
    files: {
      'package/face_detection_full_range.tflite': [
        1083984,
        '99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3',
      ],
      'package/face_detection_short_range.tflite': [
        229032,
        '3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633',
      ],
    },
  },
  {
    spec: '@mediapipe/selfie_segmentation@0.1.1675465747',
    sha256: '7767b33eaa68990ee06c28bbb89f39a13a47ebb07ff0f1fd4947d9e817bb9bf9',
    files: {
      'package/selfie_segmentation.tflite': [
        249024,
        '8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27',
      ],
    },
  },
  {
    spec: '@mediapipe/pose@0.5.1675469404',
    sha256: '8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84',
    files: {
      'package/pose_landmark_full.tflite': [
        6440512,
        'e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f',
      ],
      'package/pose_landmark_heavy.tflite': [
        27709200,
        '59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe',
      ],
    },
  },
  {
    spec: '@vladmandic/face-api@1.7.15',
    sha256: '0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031',
    files: {
      'package/model/ssd_mobilenetv1_model-weights_manifest.json': [
        28233,
        '888f744dffbc84f5f060d1f8427d9742341943a2dfaaf9205d10029b7e7a2955',
      ],
      'package/model/ssd_mobilenetv1_model.bin': [
        5616957,
        '2835640602d53718aa6ae9a42896327eaa21beefed056c218d32ca7d79e1e2f8',
      ],
      'package/model/face_recognition_model-weights_manifest.json': [
        19615,
        'cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b',
      ],
      'package/model/face_recognition_model.bin': [
        6444032,
        'b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589',
      ],
      'package/model/age_gender_model-weights_manifest.json': [
        8392,
        '74b60bf3ebf981bf4e661e9cca3a185614e10b25d797118b62e2a68d3ff2569f',
      ],
      'package/model/age_gender_model.bin': [
        429708,
        '49f92bbc0afef2342c4385e4a2b0acb6d7a727c6f0aa539499719a81acf9abaa',
      ],
      'package/model/face_landmark_68_model-weights_manifest.json': [
        8485,
        'ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9',
      ],
      'package/model/face_landmark_68_model.bin': [
        356840,
        '4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b',
      ],
      'package/model/tiny_face_detector_model-weights_manifest.json': [
        3219,
        '5d1af4849ac48d5b985f4a9b16010c512353ddd6fcc63d50fd0bc9e9e64296e5',
      ],
      'package/model/tiny_face_detector_model.bin': [
        193321,
        'b7503ce7df31039b1c43316a9b865cab6a70dd748cc602d3fa28b551503c3871',
      ],
    },
  },
];

const VAD22 = '@ricky0123/vad-web@0.0.22';
const VAD31 = '@ricky0123/vad-web@0.0.31';
const tfjs = (name) => ({
  name,
  format: 'TF.js',
  files: [
    ['@vladmandic/face-api@1.7.15', `package/model/${name}-weights_manifest.json`],
    ['@vladmandic/face-api@1.7.15', `package/model/${name}.bin`],
  ],
});
const one = (format, spec, path) => ({ name: path.split('/').pop(), format, files: [[spec, path]] });

/**
 * The models, one repository each: a model is one file, or a TF.js weights manifest with its shard, committed
 * together under the names the package ships.
 */
export const MODELS = [
  one('ONNX', VAD31, 'package/dist/silero_vad_legacy.onnx'),
  one('ONNX', VAD22, 'package/dist/silero_vad_v5.onnx'),
  one('ONNX', VAD31, 'package/dist/silero_vad_v6.onnx'),
  one('TFLite', '@mediapipe/hands@0.4.1675469240', 'package/hand_landmark_full.tflite'),
  one('TFLite', '@mediapipe/hands@0.4.1675469240', 'package/hand_landmark_lite.tflite'),
  one('TFLite', '@mediapipe/face_detection@0.4.1657300184', 'package/face_detection_full_range.tflite'),
  one('TFLite', '@mediapipe/face_detection@0.4.1657300184', 'package/face_detection_short_range.tflite'),
  one('TFLite', '@mediapipe/selfie_segmentation@0.1.1675465747', 'package/selfie_segmentation.tflite'),
  one('TFLite', '@mediapipe/pose@0.5.1675469404', 'package/pose_landmark_full.tflite'),
  one('TFLite', '@mediapipe/pose@0.5.1675469404', 'package/pose_landmark_heavy.tflite'),
  tfjs('ssd_mobilenetv1_model'),
  tfjs('face_recognition_model'),
  tfjs('age_gender_model'),
  tfjs('face_landmark_68_model'),
  tfjs('tiny_face_detector_model'),
];

/**
 * Retrained pairs: the same model in two releases of its package, weights changed, architecture and size the same.
 * The bench commits `old` then `new` under one path and compares what the second commit adds with binary deltas.
 */
export const PAIRS = [
  {
    name: 'silero_vad v5 -> v6',
    path: 'silero_vad.onnx',
    old: [VAD22, 'package/dist/silero_vad_v5.onnx'],
    new: [VAD31, 'package/dist/silero_vad_v6.onnx'],
  },
];

/** The cache folder: $MVM_BENCH_CACHE, else ~/.cache/mvm-bench (never inside the repository). */
export const cacheDir = () => process.env.MVM_BENCH_CACHE || join(homedir(), '.cache', 'mvm-bench');

export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const tarballName = (spec) => `${spec.replace(/^@/, '').replace('/', '-')}.tgz`;
const folderName = (spec) => spec.replace(/^@/, '').replace('/', '-');

/** `npm pack SPEC` into `dir`, as the registry client sees it; returns the tarball's path. */
function npmPack(spec, dir) {
  const r = spawnSync('npm', ['pack', spec, '--json', '--pack-destination', dir], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`npm pack ${spec} failed: ${(r.stderr || String(r.error)).slice(-1000)}`);
  const json = r.stdout.slice(r.stdout.indexOf('['));
  return join(dir, JSON.parse(json)[0].filename);
}

/** The cached tarball of a package, fetched (once) and checked against its sha256. */
function tarball(pkg, dir, log) {
  const path = join(dir, tarballName(pkg.spec));
  if (existsSync(path) && sha256(readFileSync(path)) === pkg.sha256) return path;
  rmSync(path, { force: true });
  log(`npm pack ${pkg.spec}`);
  const got = npmPack(pkg.spec, dir);
  const sum = sha256(readFileSync(got));
  if (sum !== pkg.sha256) {
    rmSync(got, { force: true });
    throw new Error(`${pkg.spec}: tarball sha256 ${sum}, expected ${pkg.sha256}`);
  }
  if (got !== path) renameSync(got, path);
  return path;
}

/**
 * Fetches and unpacks the packages of the [spec, path] files `needed` (cached), checks each file's size and
 * sha256, and returns a function from [spec, path] to the file's path in the cache.
 */
export function fetchModels(log, needed) {
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  const where = new Map();
  const specs = new Set(needed.map(([spec]) => spec));
  for (const pkg of PACKAGES.filter((p) => specs.has(p.spec))) {
    const out = join(dir, folderName(pkg.spec));
    const paths = Object.keys(pkg.files);
    const check = (p) => {
      const file = join(out, p);
      if (!existsSync(file)) return false;
      const buf = readFileSync(file);
      return buf.length === pkg.files[p][0] && sha256(buf) === pkg.files[p][1];
    };
    if (!paths.every(check)) {
      const tgz = tarball(pkg, dir, log);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      const r = spawnSync('tar', ['xzf', tgz, '-C', out, ...paths], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tar xzf ${tgz}: ${r.stderr}`);
      for (const p of paths) if (!check(p)) throw new Error(`${pkg.spec} ${p}: size or sha256 differs`);
    }
    for (const p of paths) where.set(`${pkg.spec}\0${p}`, join(out, p));
  }
  return ([spec, path]) => {
    const file = where.get(`${spec}\0${path}`);
    if (!file) throw new Error(`${spec} ${path} is not in PACKAGES`);
    return file;
  };
}

/** The size and sha256 PACKAGES records for a file. */
export const fileFacts = ([spec, path]) => {
  const [size, sum] = PACKAGES.find((p) => p.spec === spec).files[path];
  return { size, sha256: sum };
};

// Units and number formats of the bench report.
const MiB = 1 << 20;
const GiB = 1 << 30;
export { MiB, GiB };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const max = (xs) => Math.max(...xs);
const fmtS = (s) => (s < 10 ? s.toFixed(3) : s.toFixed(2)) + ' s';
const fmtMB = (kb) => (kb / 1024).toFixed(1) + ' MB';
const fmtBytes = (b) =>
  b >= GiB
    ? (b / GiB).toFixed(3) + ' GiB'
    : b >= MiB
      ? (b / MiB).toFixed(2) + ' MiB'
      : b >= 1024
        ? (b / 1024).toFixed(1) + ' KiB'
        : b + ' B';
const fmtRate = (bytes, s) => (bytes / 1e6 / s).toFixed(0) + ' MB/s';
const pct = (x) => (x * 100).toFixed(2) + '%';
export { median, max, fmtS, fmtMB, fmtBytes, fmtRate, pct };

// Runs s3rver (a real S3-protocol server) on 127.0.0.1 in its own process, so
// tests may block on spawnSync while it answers. argv: DIR BUCKET...; prints
// the port on its first stdout line, and stops when stdin closes.
import S3rver from 's3rver';

const [dir, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: dir,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(`${port}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.close();
  process.exit(0);
});

// One reader process of the parallel throughput bench: reads PATH to EOF for MS milliseconds, prints the count.
import { readFileSync } from 'node:fs';

const [path, ms] = process.argv.slice(2);
let reads = 0;
const end = performance.now() + Number(ms);
while (performance.now() < end) {
  readFileSync(path);
  reads++;
}
process.stdout.write(String(reads));

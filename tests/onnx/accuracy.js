// Test accuracy of an exported classifier in ONNX Runtime on Fashion-MNIST's t10k files:
//   node accuracy.js MODEL.onnx [DATA_DIR]   (DATA_DIR: /usr/share/datasets/fashion-mnist)
// Pixels are scaled to [0, 1] as dtrain does (byte / 255 in float32); prints one JSON line.
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

function idx(path) {
  let b = fs.readFileSync(fs.existsSync(path + '.gz') ? path + '.gz' : path);
  if (b[0] === 0x1f && b[1] === 0x8b) b = zlib.gunzipSync(b);
  const ndims = b[3];
  const dims = [];
  for (let i = 0; i < ndims; ++i) dims.push(b.readUInt32BE(4 + 4 * i));
  return {dims, data: b.subarray(4 + 4 * ndims)};
}

async function main() {
  const [model, dir = '/usr/share/datasets/fashion-mnist'] = process.argv.slice(2);
  const images = idx(dir + '/t10k-images-idx3-ubyte');
  const labels = idx(dir + '/t10k-labels-idx1-ubyte');
  const [n, h, w] = images.dims;
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: 1});
  const batch = 500;
  let correct = 0;
  for (let begin = 0; begin < n; begin += batch) {
    const count = Math.min(batch, n - begin);
    const x = new Float32Array(count * h * w);
    for (let i = 0; i < x.length; ++i) x[i] = Math.fround(images.data[begin * h * w + i] / 255);
    const out = await session.run({[session.inputNames[0]]: new ort.Tensor('float32', x, [count, h, w, 1])});
    const y = out[session.outputNames[0]];
    const k = y.dims[1];
    for (let r = 0; r < count; ++r) {
      let best = 0;
      for (let j = 1; j < k; ++j) if (y.data[r * k + j] > y.data[r * k + best]) best = j;
      if (best === labels.data[begin + r]) ++correct;
    }
  }
  console.log(JSON.stringify({model, test_examples: n, correct, test_acc: correct / n}));
}

main().catch(e => {
  console.error('accuracy.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});

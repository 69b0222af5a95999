// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node) on a float32 .npy batch and
// writes the first output as a float32 .npy:  node run_onnx.js MODEL INPUT.npy OUTPUT.npy
// Used by the export tests to check dtrain's ONNX files against dtrain's own forward pass.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(path + ': not a .npy file');
  const major = b[6];
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + headerLen);
  if (!header.includes("'<f4'")) throw new Error(path + ': expected float32 data');
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map(s => s.trim())
      .filter(s => s.length > 0).map(Number);
  const off = start + headerLen;
  const data = new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length));
  return {shape, data};
}

function writeNpy(path, shape, data) {
  const dims = shape.length === 1 ? shape[0] + ',' : shape.join(', ');
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + '), }';
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const lead = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff,
                            header.length >> 8]);
  fs.writeFileSync(path, Buffer.concat([lead, Buffer.from(header, 'latin1'),
                                        Buffer.from(data.buffer, data.byteOffset,
                                                    data.byteLength)]));
}

async function main() {
  const [model, input, output] = process.argv.slice(2);
  const x = readNpy(input);
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: 1});
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', x.data, x.shape);
  const result = await session.run(feeds);
  const y = result[session.outputNames[0]];
  writeNpy(output, y.dims, y.data);
  console.log('onnxruntime ' + (ort.env.versions ? ort.env.versions.common : '') + ': ' +
              session.outputNames[0] + ' ' + JSON.stringify(y.dims));
}

main().catch(e => {
  console.error('run_onnx.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});

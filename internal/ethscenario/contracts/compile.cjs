// compile.cjs compiles Token.sol and Forwarder.sol with solc-js (standard
// JSON) and writes NAME.bin (creation bytecode, hex, one line) and NAME.abi
// (the ABI as one line of JSON). With --check it writes nothing and fails
// when a committed file differs from the build. Run it through compile.sh.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const wantVersion = '0.8.37';
const check = process.argv.includes('--check');
const dir = __dirname;
const names = ['Token', 'Forwarder'];

if (!solc.version().startsWith(wantVersion + '+')) {
  console.error(`compile: solc ${solc.version()} found, ${wantVersion} required`);
  process.exit(1);
}

const sources = {};
for (const n of names) {
  sources[`${n}.sol`] = { content: fs.readFileSync(path.join(dir, `${n}.sol`), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'osaka',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of out.errors || []) {
  console.error(e.formattedMessage || e.message);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);

let differs = false;
for (const n of names) {
  const c = out.contracts[`${n}.sol`][n];
  const files = {
    [`${n}.bin`]: c.evm.bytecode.object + '\n',
    [`${n}.abi`]: JSON.stringify(c.abi) + '\n',
  };
  for (const [f, text] of Object.entries(files)) {
    const p = path.join(dir, f);
    if (check) {
      const old = fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
      if (old !== text) {
        console.error(`compile: ${f} is not the build of its source`);
        differs = true;
      }
    } else {
      fs.writeFileSync(p, text);
    }
  }
}
if (differs) process.exit(1);
console.log(`compile: solc ${solc.version()}: ${names.join(', ')} ${check ? 'match the committed files' : 'written'}`);

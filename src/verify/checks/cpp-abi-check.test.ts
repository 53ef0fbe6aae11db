import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadManifest, NO_OPERATOR_LIMITS } from '../../manifest/index.ts';
import { CPP_PLUGIN_ABI } from '../../protocol/index.ts';
import { cppAbiCheck } from './cpp-abi-check.ts';
import { ElfSymbolError, readDynamicSymbol } from './elf-dynamic-symbol.ts';
import { manifestLineFinder } from './manifest-lines.ts';
import type { StaticContext } from './static-check.ts';

const SYMBOL = CPP_PLUGIN_ABI.symbol;
/** Where the test library's .rodata is mapped: not its file offset, so that the reader must translate. */
const RODATA_ADDR = 0x4000n;

interface ElfOptions {
  abi?: [number, number];
  name?: string;
  /** st_size of the symbol (8: two uint32). */
  size?: number;
  /** Defined in .bss (no file bytes): zero-initialised. */
  bss?: boolean;
  /** A symbol value past the section: the bytes lie outside the file. */
  outside?: boolean;
  elfClass?: number;
  type?: number;
}

/**
 * A minimal 64-bit little-endian ELF shared library: sections null, .dynstr, .dynsym (a null
 * symbol and ours), .rodata with the two numbers, .bss; what the C++ runner reads, and no more.
 */
function elf(o: ElfOptions = {}): Buffer {
  const name = o.name ?? SYMBOL;
  const dynstr = Buffer.from(`\0${name}\0`);
  const rodata = Buffer.alloc(8);
  rodata.writeUInt32LE(o.abi?.[0] ?? 1, 0);
  rodata.writeUInt32LE(o.abi?.[1] ?? 0, 4);
  const symbol = Buffer.alloc(24);
  symbol.writeUInt32LE(1, 0); // st_name: after the leading NUL
  symbol[4] = 0x11; // STB_GLOBAL, STT_OBJECT
  symbol.writeUInt16LE(o.bss ? 4 : 3, 6);
  symbol.writeBigUInt64LE(o.bss ? 0x8000n : RODATA_ADDR + (o.outside ? 0x10000n : 0n), 8);
  symbol.writeBigUInt64LE(BigInt(o.size ?? 8), 16);
  const dynsym = Buffer.concat([Buffer.alloc(24), symbol]);
  const dynstrAt = 64;
  const dynsymAt = dynstrAt + dynstr.length;
  const rodataAt = dynsymAt + dynsym.length;
  const sectionsAt = rodataAt + rodata.length;
  const section = (type: number, addr: bigint, offset: number, size: number, link = 0) => {
    const s = Buffer.alloc(64);
    s.writeUInt32LE(type, 4);
    s.writeBigUInt64LE(addr, 16);
    s.writeBigUInt64LE(BigInt(offset), 24);
    s.writeBigUInt64LE(BigInt(size), 32);
    s.writeUInt32LE(link, 40);
    return s;
  };
  const sections = [
    Buffer.alloc(64),
    section(3, 0n, dynstrAt, dynstr.length), // SHT_STRTAB
    section(11, 0n, dynsymAt, dynsym.length, 1), // SHT_DYNSYM, names in section 1
    section(1, RODATA_ADDR, rodataAt, rodata.length), // SHT_PROGBITS
    section(8, 0x8000n, sectionsAt, 64), // SHT_NOBITS
  ];
  const header = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, o.elfClass ?? 2, 1, 1]).copy(header);
  header.writeUInt16LE(o.type ?? 3, 16); // ET_DYN
  header.writeUInt16LE(62, 18); // x86-64
  header.writeBigUInt64LE(BigInt(sectionsAt), 40);
  header.writeUInt16LE(64, 52);
  header.writeUInt16LE(64, 58);
  header.writeUInt16LE(sections.length, 60);
  return Buffer.concat([header, dynstr, dynsym, rodata, ...sections]);
}

const scratch = mkdtempSync(path.join(tmpdir(), 'ct-cpp-abi-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;

function library(bytes: Buffer): string {
  const file = path.join(scratch, `lib${count++}.so`);
  writeFileSync(file, bytes);
  return file;
}

async function refusal(bytes: Buffer): Promise<string> {
  try {
    await readDynamicSymbol(library(bytes), SYMBOL, 8);
  } catch (err) {
    assert.ok(err instanceof ElfSymbolError);
    return `${err.reason}: ${err.message}`;
  }
  assert.fail('read a symbol it should have refused');
}

describe('reading an exported symbol from an ELF library without loading it', () => {
  it('finds the bytes through .dynsym, .dynstr and the section’s address', async () => {
    const bytes = await readDynamicSymbol(library(elf({ abi: [7, 3] })), SYMBOL, 8);
    assert.deepEqual([bytes.readUInt32LE(0), bytes.readUInt32LE(4)], [7, 3]);
  });

  it('reads zeros for a symbol in .bss', async () => {
    assert.deepEqual(await readDynamicSymbol(library(elf({ bss: true })), SYMBOL, 8), Buffer.alloc(8));
  });

  it('refuses what is not a 64-bit ELF shared library, a missing, short or misplaced symbol', async () => {
    assert.equal(await refusal(Buffer.from('not a library\n')), 'NOT_A_LIBRARY: is not a 64-bit ELF shared library');
    assert.match(await refusal(elf({ elfClass: 1 })), /^NOT_A_LIBRARY: is not a 64-bit/);
    assert.match(await refusal(elf({ type: 2 })), /^NOT_A_LIBRARY: is not a 64-bit/);
    assert.match(await refusal(elf().subarray(0, 200)), /^NOT_A_LIBRARY: is cut short: its section headers/);
    assert.equal(await refusal(elf({ name: 'CreatePlugin' })), `SYMBOL_MISSING: exports no ${SYMBOL}`);
    assert.match(await refusal(elf({ size: 4 })), /^SYMBOL_INVALID: has a classtop_plugin_abi_version too small/);
    assert.match(await refusal(elf({ outside: true })), /^SYMBOL_INVALID: has a classtop_plugin_abi_version outside/);
  });
});

/** A C++ plugin directory with `bytes` as build/plugin.so (none when undefined), and its context. */
function cppPlugin(bytes: Buffer | undefined): StaticContext {
  const root = path.join(scratch, `plugin${count++}`);
  mkdirSync(path.join(root, 'build'), { recursive: true });
  writeFileSync(
    path.join(root, 'plugin.yaml'),
    'metadata: { id: com.test.abi, name: ABI, version: 1.0.0, language: cpp }\n',
  );
  if (bytes) writeFileSync(path.join(root, 'build/plugin.so'), bytes);
  const manifest = bytes ? loadManifest(root, NO_OPERATOR_LIMITS) : undefined;
  return { root, manifest, manifestLine: manifestLineFinder(root) } as StaticContext;
}

describe('the cpp-abi check', () => {
  const { major, minor } = CPP_PLUGIN_ABI;
  const served = `${major}.0 to ${major}.${minor}`;

  it('passes a library of the runner’s ABI, naming both', async () => {
    const [result] = await cppAbiCheck.run(cppPlugin(elf({ abi: [major, minor] })));
    assert.deepEqual(
      [result?.severity, result?.code, result?.location],
      ['ok', 'ABI_COMPATIBLE', { file: 'build/plugin.so' }],
    );
    assert.match(result?.detail ?? '', new RegExp(`serves SDK ABI ${served.replaceAll('.', '\\.')}`));
  });

  it('refuses another major, or a newer minor, with the runner’s PLUGIN_ABI_MISMATCH: found and needed', async () => {
    for (const abi of [
      [major + 1, 0],
      [major, minor + 1],
    ] as Array<[number, number]>) {
      const [result] = await cppAbiCheck.run(cppPlugin(elf({ abi })));
      assert.equal(result?.code, 'PLUGIN_ABI_MISMATCH');
      assert.equal(result?.severity, 'error');
      assert.equal(
        result?.detail,
        `build/plugin.so was built for SDK ABI ${abi.join('.')}; this runner serves SDK ABI ${served}: the runner ` +
          'would refuse it; rebuild it with `classtop-sandbox build` (the builder image has the runner’s SDK)',
      );
    }
  });

  it('names a library without the symbol, a file that is no library, and one not built yet', async () => {
    const [missing] = await cppAbiCheck.run(cppPlugin(elf({ name: 'CreatePlugin' })));
    assert.equal(missing?.code, 'ABI_SYMBOL_MISSING');
    assert.match(missing?.detail ?? '', /CLASSTOP_PLUGIN_EXPORT/);
    const [text] = await cppAbiCheck.run(cppPlugin(Buffer.from('#!/bin/sh\n')));
    assert.equal(text?.code, 'NOT_A_LIBRARY');
    const [unbuilt] = await cppAbiCheck.run(cppPlugin(undefined));
    assert.deepEqual(
      [unbuilt?.severity, unbuilt?.code, unbuilt?.location],
      ['error', 'CPP_NOT_BUILT', { file: 'plugin.yaml', line: 1 }],
    );
    assert.match(unbuilt?.detail ?? '', /build\/plugin\.so does not exist: run `classtop-sandbox build DIR`/);
  });
});

import { open, type FileHandle } from 'node:fs/promises';

/**
 * Reads one exported symbol's bytes from a 64-bit ELF shared library without loading it (a
 * library's constructors run at dlopen): the header, the section headers, .dynsym and its string
 * table, then the bytes the symbol's value points at in its section. The same walk as the C++
 * runner's ReadAbiVersion (sandboxes/cpp/runner/plugin_library.cpp), so that both find the same
 * numbers. Only what it needs is read, never the whole file.
 */

/** As the runner: a plugin library is a few MB, and one over this is refused. */
export const MAX_LIBRARY_BYTES = 1024 * 1024 * 1024;
/** .dynsym and .dynstr of a plugin are a few KB; a bigger table is not a plugin library's. */
const MAX_TABLE_BYTES = 64 * 1024 * 1024;

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_DYN = 3;
const HEADER_BYTES = 64;
const SECTION_HEADER_BYTES = 64;
const SYMBOL_BYTES = 24;
const SHT_DYNSYM = 11;
const SHT_NOBITS = 8;
const SHN_UNDEF = 0;

/** Why a file's symbol could not be read; `detail` says it of the file, without its name. */
export class ElfSymbolError extends Error {
  readonly reason: 'NOT_A_LIBRARY' | 'SYMBOL_MISSING' | 'SYMBOL_INVALID';

  constructor(reason: ElfSymbolError['reason'], detail: string) {
    super(detail);
    this.name = 'ElfSymbolError';
    this.reason = reason;
  }
}

interface Section {
  type: number;
  addr: bigint;
  offset: bigint;
  size: bigint;
  link: number;
}

/**
 * The `size` bytes at exported symbol `name` of the library `file`; zeros when the symbol lives in
 * a section without file bytes (.bss). Throws ElfSymbolError for a file that is not a 64-bit
 * little-endian ELF shared library, a symbol it does not define, or one too small or outside it.
 */
export async function readDynamicSymbol(file: string, name: string, size: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const length = (await handle.stat()).size;
    if (length > MAX_LIBRARY_BYTES) throw new ElfSymbolError('NOT_A_LIBRARY', 'is larger than 1 GiB');
    const sections = await readSections(handle, length);
    for (const table of sections) {
      if (table.type !== SHT_DYNSYM) continue;
      const names = sections[table.link];
      if (!names) continue;
      const symbols = await readRange(handle, length, table.offset, table.size, '.dynsym');
      const strings = await readRange(handle, length, names.offset, names.size, '.dynstr');
      const wanted = Buffer.from(`${name}\0`);
      for (let at = 0; at + SYMBOL_BYTES <= symbols.length; at += SYMBOL_BYTES) {
        const nameAt = symbols.readUInt32LE(at);
        const shndx = symbols.readUInt16LE(at + 6);
        if (shndx === SHN_UNDEF || shndx >= sections.length) continue;
        if (nameAt + wanted.length > strings.length || !strings.subarray(nameAt, nameAt + wanted.length).equals(wanted))
          continue;
        if (symbols.readBigUInt64LE(at + 16) < BigInt(size))
          throw new ElfSymbolError('SYMBOL_INVALID', `has a ${name} too small (under ${size} bytes)`);
        const home = sections[shndx] as Section;
        if (home.type === SHT_NOBITS) return Buffer.alloc(size); // zero-initialised
        const offset = home.offset + (symbols.readBigUInt64LE(at + 8) - home.addr);
        if (offset < 0n || offset + BigInt(size) > BigInt(length))
          throw new ElfSymbolError('SYMBOL_INVALID', `has a ${name} outside its file`);
        return readRange(handle, length, offset, BigInt(size), name);
      }
    }
    throw new ElfSymbolError('SYMBOL_MISSING', `exports no ${name}`);
  } finally {
    await handle.close();
  }
}

async function readSections(handle: FileHandle, length: number): Promise<Section[]> {
  const notLibrary = new ElfSymbolError('NOT_A_LIBRARY', 'is not a 64-bit ELF shared library');
  if (length < HEADER_BYTES) throw notLibrary;
  const header = await readRange(handle, length, 0n, BigInt(HEADER_BYTES), 'the ELF header');
  const is64BitLibrary =
    header.subarray(0, 4).equals(ELF_MAGIC) &&
    header[4] === ELFCLASS64 &&
    header[5] === ELFDATA2LSB &&
    header.readUInt16LE(16) === ET_DYN &&
    header.readUInt16LE(58) === SECTION_HEADER_BYTES;
  if (!is64BitLibrary) throw notLibrary;
  const count = header.readUInt16LE(60);
  const table = await readRange(
    handle,
    length,
    header.readBigUInt64LE(40),
    BigInt(count * SECTION_HEADER_BYTES),
    'its section headers',
  );
  return Array.from({ length: count }, (_, i) => {
    const at = i * SECTION_HEADER_BYTES;
    return {
      type: table.readUInt32LE(at + 4),
      addr: table.readBigUInt64LE(at + 16),
      offset: table.readBigUInt64LE(at + 24),
      size: table.readBigUInt64LE(at + 32),
      link: table.readUInt32LE(at + 40),
    };
  });
}

/** `size` bytes at `offset`, refused when they are not all inside the file (or absurdly many). */
async function readRange(
  handle: FileHandle,
  length: number,
  offset: bigint,
  size: bigint,
  what: string,
): Promise<Buffer> {
  if (offset < 0n || size > BigInt(MAX_TABLE_BYTES) || offset + size > BigInt(length))
    throw new ElfSymbolError('NOT_A_LIBRARY', `is cut short: ${what} lies outside the file`);
  const bytes = Buffer.alloc(Number(size));
  const { bytesRead } = await handle.read(bytes, 0, bytes.length, Number(offset));
  if (bytesRead !== bytes.length) throw new ElfSymbolError('NOT_A_LIBRARY', `is cut short: ${what}`);
  return bytes;
}

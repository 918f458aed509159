// Writes a zip the way torch.save does, so PyTorch's reader (and its mmap loading) is on familiar
// ground: entries STORED, sizes and CRC in the local headers (no data descriptors), and each
// entry's data aligned to 64 bytes by padding the local header's extra field with torch's 'FB'
// record. Archives past 4 GiB would need zip64 and are refused rather than written wrong.
import { crc32 } from 'node:zlib';

export interface ZipInput {
  name: string;
  data: Uint8Array;
}

const ALIGNMENT = 64;
const PADDING_ID = 0x4246;  // 'FB', as torch's writer
const VERSION = 20;  // 2.0: the oldest zip that has STORED entries and folders
const LIMIT = 0xffffffff;

export function buildZip(entries: ZipInput[]): Buffer {
  const chunks: Uint8Array[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data) >>> 0;
    const headerEnd = offset + 30 + nameBytes.length + 4;
    const padding = (ALIGNMENT - (headerEnd % ALIGNMENT)) % ALIGNMENT;
    const local = Buffer.alloc(30 + nameBytes.length + 4 + padding, 'Z');
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt32LE(0, 6);  // flags, method STORED
    local.writeUInt32LE(0, 10);  // time, date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(checked(data.length), 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(4 + padding, 28);
    nameBytes.copy(local, 30);
    local.writeUInt16LE(PADDING_ID, 30 + nameBytes.length);
    local.writeUInt16LE(padding, 32 + nameBytes.length);

    const header = Buffer.alloc(46 + nameBytes.length);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(VERSION, 4);
    header.writeUInt16LE(VERSION, 6);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(data.length, 20);
    header.writeUInt32LE(data.length, 24);
    header.writeUInt16LE(nameBytes.length, 28);
    header.writeUInt32LE(checked(offset), 42);
    nameBytes.copy(header, 46);
    central.push(header);

    chunks.push(local, data);
    offset += local.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  if (entries.length > 0xffff) throw new Error(`a zip of ${entries.length} entries needs zip64, which this writer does not produce`);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(checked(offset), 16);
  return Buffer.concat([...chunks, directory, end]);
}

function checked(value: number): number {
  if (value > LIMIT) throw new Error('the checkpoint exceeds 4 GiB, which needs zip64; this writer does not produce it');
  return value;
}

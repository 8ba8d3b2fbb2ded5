// The data segments the build moved out of the wasm module's data section
// into a custom section (PackedDataSection in web/wasmdata.go, which says
// why): written into the instance's memory before the module runs.

/** The custom section's name: PackedDataSection in web/wasmdata.go. */
export const PACKED_DATA_SECTION = "mqtts.data";

/**
 * Writes the segments of mod's PackedDataSection into mem, the memory of a
 * fresh instance of mod that has not run yet; nothing when mod has none.
 * The section holds runs of segments of one length, each the same number
 * of bytes after the end of the one before: the number of runs, then for
 * each that distance, the length, the number of segments (unsigned LEB128)
 * and their bytes. Throws on a section that is not that, before writing.
 *
 * For the client's 94,000 segments this takes 7 to 13 ms in Chromium on 2
 * cores, most of it the first writes to the memory's pages (a loop in a
 * small wasm module instead took as long).
 */
export function unpackData(mod: WebAssembly.Module, mem: WebAssembly.Memory): void {
  const sections = WebAssembly.Module.customSections(mod, PACKED_DATA_SECTION);
  if (sections.length === 0) return;
  const b = new Uint8Array(sections[0]);
  const m = new Uint8Array(mem.buffer);
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`the wasm module's ${PACKED_DATA_SECTION} section: ${what} at byte ${i}`);
  };
  const u32 = (): number => {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (i >= b.length) fail("a number runs past the end");
      const c = b[i++];
      v += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) return v;
    }
    return fail("a number longer than 5 bytes");
  };
  // The runs (where each starts in b and in m, and its shape), checked
  // before anything is written.
  const runs: number[] = [];
  let at = 0;
  for (let count = u32(); count > 0; count--) {
    const gap = u32();
    const size = u32();
    const n = u32();
    if (i + n * size > b.length) fail("a run runs past the end");
    if (at + n * (gap + size) > m.length) fail("a run runs past the memory");
    // Empty segments write nothing: not looped over (n is not bounded by
    // the section's length when size is 0).
    if (size > 0) runs.push(i, at, n, size, gap);
    i += n * size;
    at += n * (gap + size);
  }
  if (i !== b.length) fail("bytes after the last run");
  for (let r = 0; r < runs.length; r += 5) {
    let [src, dst] = [runs[r], runs[r + 1]];
    const [n, size, gap] = [runs[r + 2], runs[r + 3], runs[r + 4]];
    for (let k = 0; k < n; k++) {
      dst += gap;
      for (let j = 0; j < size; j++) m[dst++] = b[src++];
    }
  }
}

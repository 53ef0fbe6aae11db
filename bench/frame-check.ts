/** The frames the framer fixtures make (Node's framer, cpp-framer), as the host checks them. */
export const FRAME_BYTES = 1920 * 1080 * 3;

/** The framers' byte i is (i * 7 + seed) % 251: check the length and a sample, as a consumer would. */
export function checkFrame(frame: Buffer, seed = 1): void {
  if (frame.length !== FRAME_BYTES) throw new Error(`a frame of ${frame.length} bytes, not ${FRAME_BYTES}`);
  for (let i = 0; i < FRAME_BYTES; i += 4099) {
    if (frame[i] !== (i * 7 + seed) % 251) throw new Error(`frame byte ${i} is wrong`);
  }
}

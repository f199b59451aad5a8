// QR codes drawn in the browser as GIF data: URLs, so nothing is fetched from WeChat and a phone
// can long-press the <img> to recognise it. The encoder is a lazy chunk: only pages that show a
// WeChat login load it.

/** Pixels across the drawn image: sharp at ~220 CSS px on a 3× phone screen, and when saved. */
const IMAGE_PX = 640;
/** The quiet zone scanners expect around the code, in modules. */
const QUIET_MODULES = 4;

type Encoder = typeof import('qrcode-generator');
let encoder: Promise<Encoder> | undefined;

/** Starts loading the encoder (once); a failed load is tried again on the next call. */
export function loadQrEncoder(): Promise<Encoder> {
  return (encoder ??= import('qrcode-generator').then(
    (module) => module.default,
    (err: unknown) => {
      encoder = undefined;
      throw err;
    },
  ));
}

/** `text` as a QR code: black modules on white, whatever the page's theme. */
export async function qrDataUrl(text: string): Promise<string> {
  const qrcode = await loadQrEncoder();
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const cell = Math.ceil(IMAGE_PX / (qr.getModuleCount() + 2 * QUIET_MODULES));
  return qr.createDataURL(cell, cell * QUIET_MODULES);
}

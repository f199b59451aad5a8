// Large pictures are scaled down in the browser before they are uploaded: a phone photo of 4000 px
// costs the upstream as much as it costs the upload, and models look at about 2048 px anyway.

/** The longest side (px) of an image as it is uploaded. */
export const MAX_IMAGE_SIDE = 2048;
const JPEG_QUALITY = 0.9;

/** Whether any pixel is not fully opaque (then JPEG, which has no alpha, would blacken it). */
function hasTransparency(ctx: CanvasRenderingContext2D, width: number, height: number): boolean {
  const data = ctx.getImageData(0, 0, width, height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] < 255) return true;
  return false;
}

function renamed(name: string, type: string): string {
  const base = name.replace(/\.[^./\\]*$/, '') || 'image';
  return `${base}${type === 'image/png' ? '.png' : '.jpg'}`;
}

/**
 * The picture to upload: `file` itself when it is small enough, a GIF (scaling would lose the
 * animation) or something this browser cannot decode (the server judges it); otherwise a copy at
 * most MAX_IMAGE_SIDE px on its longest side, as JPEG, or PNG when it has transparent pixels.
 */
export async function shrinkImage(file: File): Promise<File> {
  if (file.type === 'image/gif' || typeof createImageBitmap === 'undefined') return file;
  let bitmap: ImageBitmap;
  try {
    // Photos are turned upright by their EXIF orientation, as the browser shows them.
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return file;
  }
  try {
    const longest = Math.max(bitmap.width, bitmap.height);
    if (longest <= MAX_IMAGE_SIDE) return file;
    const scale = MAX_IMAGE_SIDE / longest;
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return file;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, width, height);
    const type = file.type !== 'image/jpeg' && hasTransparency(ctx, width, height) ? 'image/png' : 'image/jpeg';
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, JPEG_QUALITY));
    if (!blob) return file;
    return new File([blob], renamed(file.name, type), { type, lastModified: file.lastModified });
  } finally {
    bitmap.close();
  }
}

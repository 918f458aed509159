// Exports a chart as a PNG: the SVG recharts drew, with the page's CSS variables written in (an
// SVG drawn as an image sees no stylesheet), onto a canvas at twice the size, then a download.
// Loads the SVG from a data: URL because the page's policy allows data: images and not blob: ones.
import { downloadBlob } from '../download';

/** Replaces var(--name) with its value from lookup, so the SVG stands alone. */
export function resolveCssVariables(svgText: string, lookup: (name: string) => string): string {
  return svgText.replace(/var\((--[\w-]+)\)/g, (whole, name: string) => lookup(name).trim() || whole);
}

/** Height of the caption band above the chart, in CSS pixels. */
const captionHeight = 28;

export async function downloadSvgAsPng(svg: SVGSVGElement, fileName: string, caption: string, scale = 2): Promise<void> {
  const { width, height } = svg.getBoundingClientRect();
  if (width === 0 || height === 0) throw new Error('the chart has no size to export (is it on screen?)');
  const rootStyle = getComputedStyle(document.documentElement);
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  clone.setAttribute('font-family', rootStyle.fontFamily);
  const text = resolveCssVariables(new XMLSerializer().serializeToString(clone), (name) => rootStyle.getPropertyValue(name));

  const image = new Image();
  await new Promise<void>((resolve, reject) => {
    image.onload = () => resolve();
    image.onerror = () => reject(new Error('the chart could not be drawn as an image'));
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  });
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round((height + captionHeight) * scale);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser gives no 2D canvas to draw the PNG on');
  // The page background under the chart, so the PNG is not transparent.
  context.fillStyle = rootStyle.getPropertyValue('--surface').trim() || '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.scale(scale, scale);
  // The caption says what was measured, so the PNG means something outside the app.
  context.fillStyle = rootStyle.getPropertyValue('--text').trim() || '#000000';
  context.font = `600 13px ${rootStyle.fontFamily}`;
  context.fillText(caption, 8, 18);
  context.drawImage(image, 0, captionHeight, width, height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the canvas could not be encoded as PNG');
  downloadBlob(blob, fileName);
}

// Reading the credential letter's QR code: from a photo or scan (any browser: jsQR, a small
// pure-JS decoder bundled here), or live from the camera (the browser's BarcodeDetector where it
// has one, jsQR on the video frames otherwise). The code holds the credential file's text.
// Nothing leaves this device.

import jsQR from 'jsqr';

/**
 * Decodes RGBA pixels; the text, or null when no QR code is found. jsQR may "find" an empty code
 * in a picture without one: a credential is never empty, so that is none.
 */
function decode(image, width, height) {
  const found = jsQR(image, width, height, { inversionAttempts: 'attemptBoth' });
  return found && found.data !== '' ? found.data : null;
}

/** The pixels of a drawable scaled so its longer side is at most `max` pixels. */
function pixels(source, w, h, max) {
  const k = Math.min(1, max / Math.max(w, h));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(w * k));
  canvas.height = Math.max(1, Math.round(h * k));
  const g = canvas.getContext('2d', { willReadFrequently: true });
  // A white background: a transparent PNG would otherwise read as black.
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.drawImage(source, 0, 0, canvas.width, canvas.height);
  return { data: g.getImageData(0, 0, canvas.width, canvas.height).data, width: canvas.width, height: canvas.height };
}

/**
 * The text of the QR code in an image file (a photo or a scan of the letter), or null. Large
 * photos are tried at a few sizes: the decoder finds a code more reliably near 1000 pixels.
 */
export async function readQrFromImage(file) {
  const bitmap = await createImageBitmap(file);
  try {
    for (const max of [1200, 800, 2000, 500]) {
      const p = pixels(bitmap, bitmap.width, bitmap.height, max);
      const text = decode(p.data, p.width, p.height);
      if (text !== null) return text;
    }
    return null;
  } finally {
    bitmap.close?.();
  }
}

/**
 * Shows the camera in `video` and calls `onText` once with the first QR code's text. Returns a
 * function that stops the camera. Throws when no camera can be opened.
 */
export async function startCamera(video, onText) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  video.srcObject = stream;
  await video.play();
  let running = true;
  const detector = 'BarcodeDetector' in window ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
  const stop = () => {
    running = false;
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  const tick = async () => {
    if (!running) return;
    let text = null;
    try {
      if (detector) text = (await detector.detect(video))[0]?.rawValue ?? null;
      else if (video.videoWidth > 0) {
        const p = pixels(video, video.videoWidth, video.videoHeight, 800);
        text = decode(p.data, p.width, p.height);
      }
    } catch {
      text = null;
    }
    if (text !== null && running) {
      stop();
      onText(text);
    } else setTimeout(tick, 250);
  };
  tick();
  return stop;
}

/**
 * Scan a product's EAN with the phone's camera where the browser has BarcodeDetector (Chromium on Android); where it
 * has not, the button is not shown and the GTIN is typed.
 */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Dict } from './i18n.js';

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}
type DetectorCtor = new (opts: { formats: string[] }) => Detector;

export function Scanner({ t, onCode }: { t: Dict; onCode: (code: string) => void }) {
  const Ctor = (globalThis as unknown as { BarcodeDetector?: DetectorCtor }).BarcodeDetector;
  const [on, setOn] = useState(false);
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (!on || !Ctor || !video.current) return;
    let stop = false;
    let stream: MediaStream | null = null;
    const detector = new Ctor({ formats: ['ean_13', 'ean_8', 'code_128', 'qr_code'] });
    void (async () => {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      const v = video.current!;
      v.srcObject = stream;
      await v.play();
      while (!stop) {
        const codes = await detector.detect(v).catch(() => []);
        const code = codes.find((c) => /^\d{8,14}$/.test(c.rawValue));
        if (code) {
          onCode(code.rawValue);
          setOn(false);
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })().catch(() => setOn(false));
    return () => {
      stop = true;
      stream?.getTracks().forEach((tr) => tr.stop());
    };
  }, [on]);
  if (!Ctor) return null;
  return html`<button type="button" onClick=${() => setOn(!on)}>${on ? t.scanStop : t.scan}</button>${on ? html`<video ref=${video} class="scan" muted playsinline aria-label=${t.scan}></video>` : null}`;
}

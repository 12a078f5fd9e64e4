// Tells the catalog where the viewer is in a lecture, so they resume there and their course's
// staff see how it was watched (docs/contracts.md, "Viewing"): every 15 s while playing, on
// pause and when the page is left. Reports carry running totals of this view, so one lost or
// repeated changes nothing; they are best effort and never interrupt playback.
import { api } from './api';

const REPORT_EVERY_MS = 15_000;
/** A jump of more than this between two time updates is a seek, not playing. */
const MAX_STEP_SECONDS = 2;

/** A random id for this view (getRandomValues works over plain HTTP too; randomUUID does not). */
function newViewId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function trackProgress(lectureId: string, video: HTMLVideoElement): () => void {
  const view = newViewId();
  let watchedSeconds = 0;
  let parts: [number, number][] = [];
  let from: number | null = null;
  let last = 0;

  const onTime = () => {
    const now = video.currentTime;
    const step = now - last;
    if (!video.paused && from !== null && step > 0 && step <= MAX_STEP_SECONDS) {
      watchedSeconds += step;
    } else {
      closePart();
      from = now;
    }
    last = now;
  };
  const closePart = () => {
    if (from !== null && last > from) parts.push([from, last]);
    from = null;
  };

  const report = (leaving = false) => {
    closePart();
    if (!video.paused) from = last;
    if (watchedSeconds === 0 && parts.length === 0) return;
    const body = { view, position_seconds: video.currentTime, watched_seconds: watchedSeconds, watched: parts.slice(0, 64) };
    parts = [];
    api.reportProgress(lectureId, body, leaving).catch(() => {
      /* best effort: the next report carries the totals */
    });
  };

  const onPause = () => report();
  const onHide = () => {
    if (document.visibilityState === 'hidden') report(true);
  };
  video.addEventListener('timeupdate', onTime);
  video.addEventListener('pause', onPause);
  document.addEventListener('visibilitychange', onHide);
  const timer = window.setInterval(() => {
    if (!video.paused) report();
  }, REPORT_EVERY_MS);

  return () => {
    window.clearInterval(timer);
    video.removeEventListener('timeupdate', onTime);
    video.removeEventListener('pause', onPause);
    document.removeEventListener('visibilitychange', onHide);
    report(true);
  };
}

// The <video> + hls.js player for one lecture.
import Hls from 'hls.js';
import type { ErrorData } from 'hls.js';
import { h } from './dom';
import { chapterList } from './chapters';

export interface PlayerError {
  type: string;
  details: string;
  fatal: boolean;
}

export interface LecternPlayerHook {
  hls: Hls | null;
  video: HTMLVideoElement | null;
  errors: PlayerError[];
}

declare global {
  interface Window {
    lecternPlayer?: LecternPlayerHook;
  }
}

export interface PlayerOptions {
  title: string;
  /** Master playlist URL (already carrying its token). */
  master: string;
  /** The poster shown before playing, if there is one. */
  poster: string | null;
  /** The chapters' WebVTT file, if there is one. */
  chapters: string | null;
  /** Asks the catalog for a fresh playback URL (new token); null when access is gone. */
  refreshMaster: () => Promise<string | null>;
  onStatus: (message: string) => void;
  onFatal: (message: string) => void;
}

export interface Player {
  readonly element: HTMLElement;
  readonly video: HTMLVideoElement;
  /** The chapter list, to place under the video (empty and hidden when there are none). */
  readonly chapters: HTMLElement;
  /** The lecture is `ready`: the live playlist now ends; make sure the player knows. */
  lectureReady(): void;
  destroy(): void;
}

const MAX_RECOVERIES = 3;

export function createPlayer(opts: PlayerOptions): Player {
  const video = h('video', {
    class: 'player-video',
    controls: true,
    playsinline: true,
    preload: 'auto',
    poster: opts.poster,
    'aria-label': `Lecture video: ${opts.title}`,
  });
  const chapters = opts.chapters ? chapterList(video, opts.chapters) : h('nav', { hidden: true });
  const element = h('div', { class: 'player-frame' }, video);
  const hook: LecternPlayerHook = { hls: null, video, errors: [] };
  window.lecternPlayer = hook;

  let destroyed = false;
  let hls: Hls | null = null;
  let networkRecoveries = 0;
  let mediaRecoveries = 0;
  let readyTimer: number | undefined;
  let readyChecks = 0;

  const tryPlay = () => {
    const p = video.play();
    if (p) {
      p.catch(() => opts.onStatus('Press play to start the video.'));
    }
  };

  /** Get a fresh token and load the source again from where the viewer is. */
  const reloadSource = async () => {
    const url = await opts.refreshMaster().catch(() => null);
    if (destroyed || !hls) return;
    if (!url) {
      opts.onFatal('This lecture is no longer available.');
      return;
    }
    const resumeAt = video.currentTime;
    hls.config.startPosition = resumeAt > 0 ? resumeAt : -1;
    hls.loadSource(url);
    hls.once(Hls.Events.MANIFEST_PARSED, () => tryPlay());
  };

  if (Hls.isSupported()) {
    hls = new Hls({
      // Standard HLS: join ~3 segments behind the live edge; keep the player going over gaps.
      liveSyncDurationCount: 3,
      backBufferLength: 120,
      enableWorker: true,
      // The catalog's playlists are no-store; retry playlist loads a few times before giving up.
      playlistLoadPolicy: {
        default: {
          maxTimeToFirstByteMs: 10_000,
          maxLoadTimeMs: 20_000,
          timeoutRetry: { maxNumRetry: 4, retryDelayMs: 0, maxRetryDelayMs: 0 },
          errorRetry: { maxNumRetry: 4, retryDelayMs: 1000, maxRetryDelayMs: 8000 },
        },
      },
    });
    hook.hls = hls;

    hls.on(Hls.Events.ERROR, (_event, data: ErrorData) => {
      hook.errors.push({ type: data.type, details: data.details, fatal: data.fatal });
      if (!data.fatal || !hls) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < MAX_RECOVERIES) {
        mediaRecoveries++;
        opts.onStatus('Recovering from a playback error…');
        hls.recoverMediaError();
        return;
      }
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR && networkRecoveries < MAX_RECOVERIES) {
        networkRecoveries++;
        opts.onStatus('Connection problem, reconnecting…');
        void reloadSource();
        return;
      }
      opts.onFatal('The video cannot be played right now. Reload the page to try again.');
    });
    hls.on(Hls.Events.FRAG_BUFFERED, () => {
      networkRecoveries = 0;
      mediaRecoveries = 0;
    });
    hls.once(Hls.Events.MANIFEST_PARSED, () => tryPlay());
    hls.attachMedia(video);
    hls.loadSource(opts.master);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    // Safari / iOS: native HLS (it follows EXT-X-ENDLIST on its own).
    video.src = opts.master;
    video.addEventListener('loadedmetadata', () => tryPlay(), { once: true });
  } else {
    opts.onFatal('This browser cannot play HLS video.');
  }

  video.addEventListener('error', () => {
    if (!hls && video.error) opts.onFatal('The video cannot be played right now. Reload the page to try again.');
  });

  function lectureReady() {
    if (!hls || destroyed) return;
    const isLive = () => hls?.latestLevelDetails?.live ?? false;
    if (!isLive() || readyChecks >= 6) return;
    readyChecks++;
    // Reload the media playlist now instead of waiting for the next refresh: stopping and
    // restarting loading keeps the buffer and the playhead, so the video does not stop.
    hls.stopLoad();
    hls.startLoad(video.currentTime, true);
    // If a refresh still says live (e.g. the catalog is a moment behind), check again later.
    window.clearTimeout(readyTimer);
    readyTimer = window.setTimeout(() => lectureReady(), 5000);
  }

  function destroy() {
    destroyed = true;
    window.clearTimeout(readyTimer);
    if (hls) {
      hls.destroy();
      hls = null;
    }
    video.pause();
    video.removeAttribute('src');
    video.load();
    if (window.lecternPlayer === hook) window.lecternPlayer = { hls: null, video: null, errors: hook.errors };
  }

  return { element, video, chapters, lectureReady, destroy };
}

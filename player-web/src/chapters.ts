// Chapters (the slide changes of a lecture): a list under the video whose entries seek to
// them, the one playing marked. The browser loads and parses the WebVTT file itself, through a
// <track kind="chapters"> on the video (which native players that show chapters use too).
import { h, formatClock } from './dom';

/** The chapter list for the chapters at `url` (WebVTT); hidden until there are two. */
export function chapterList(video: HTMLVideoElement, url: string): HTMLElement {
  const list = h('ol', { class: 'chapter-list' });
  const nav = h('nav', { class: 'chapters', 'aria-label': 'Chapters', hidden: true }, h('h2', null, 'Chapters'), list);
  const track = h('track', { kind: 'chapters', src: url, srclang: 'en', label: 'Slides' });
  video.append(track);
  // Hidden, not disabled: the browser loads the cues but draws nothing.
  track.track.mode = 'hidden';

  let entries: { cue: TextTrackCue; button: HTMLButtonElement }[] = [];
  const markCurrent = () => {
    const now = video.currentTime;
    for (const { cue, button } of entries) {
      if (cue.startTime <= now && now < cue.endTime) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
  };
  track.addEventListener('load', () => {
    const cues = Array.from(track.track.cues ?? []);
    if (cues.length < 2) return;
    entries = cues.map((cue) => {
      const title = cue instanceof VTTCue ? cue.text : `Chapter at ${formatClock(cue.startTime)}`;
      const button = h('button', { type: 'button', class: 'chapter' },
        h('span', { class: 'chapter-title' }, title),
        h('time', { class: 'chapter-time' }, formatClock(cue.startTime)),
      );
      button.addEventListener('click', () => {
        video.currentTime = cue.startTime;
        void video.play()?.catch(() => undefined);
      });
      return { cue, button };
    });
    list.replaceChildren(...entries.map(({ button }) => h('li', null, button)));
    nav.hidden = false;
    markCurrent();
  });
  video.addEventListener('timeupdate', markCurrent);
  return nav;
}

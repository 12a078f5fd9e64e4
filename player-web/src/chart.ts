// The retention curve of a lecture for its course's staff: one bar per part of the timeline,
// as high as the share of viewers who played some of it. Plain SVG, no library.
import type { LectureAnalytics } from './api';
import { h, formatDuration } from './dom';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

export function retentionChart(a: LectureAnalytics): HTMLElement {
  const width = 600;
  const height = 160;
  const n = Math.max(a.retention.length, 1);
  const bar = width / n;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'retention-chart', role: 'img' });
  const label = `Share of the ${a.unique_viewers} students who watched each ${a.bucket_seconds}-second part of the lecture`;
  chart.setAttribute('aria-label', label);
  a.retention.forEach((share, i) => {
    const barHeight = Math.max(share * height, share > 0 ? 1 : 0);
    const rect = svg('rect', { x: i * bar, y: height - barHeight, width: Math.max(bar - 1, 1), height: barHeight, class: 'retention-bar' });
    const title = svg('title', {});
    title.textContent = `${formatDuration(i * a.bucket_seconds) || '0:00'}: ${Math.round(share * 100)} %`;
    rect.append(title);
    chart.append(rect);
  });
  return h('figure', { class: 'analytics', 'data-testid': 'retention-chart' },
    chart,
    h('figcaption', { class: 'muted' },
      `${a.unique_viewers} students, ${a.views} views, ${formatDuration(a.watched_seconds) || '0:00'} watched in all. `,
      'Each bar is a part of the lecture, as high as the share of these students who watched some of it; ',
      `students who opted out of research are not counted, and nothing is shown for fewer than ${a.minimum_cohort}.`,
    ),
  );
}

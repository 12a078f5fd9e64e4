import './style.css';
import { api, ApiError } from './api';
import type { Course, Lecture, LectureState, Me, Playback } from './api';
import { h, formatDate, formatDuration } from './dom';
import { createPlayer } from './player';
import type { Player } from './player';
import { trackProgress } from './progress';
import { retentionChart } from './chart';

// ---------------------------------------------------------------------------------------------
// Session and navigation

let me: Me | null = null;
let coursesCache: Course[] | null = null;
/** Undoes what the current page started (timers, players). */
let cleanup: (() => void) | null = null;
/** Bumped on every navigation; a page whose awaits come back after it changed stops there. */
let routeGen = 0;

const main = document.getElementById('main') as HTMLElement;
const sessionNav = document.getElementById('session-nav') as HTMLElement;
const announcer = document.getElementById('announcer') as HTMLElement;

function announce(message: string) {
  announcer.textContent = '';
  window.setTimeout(() => (announcer.textContent = message), 50);
}

export function navigate(path: string, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  void route();
}

document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const a = (event.target as Element | null)?.closest?.('a[data-link]') as HTMLAnchorElement | null;
  if (!a || a.origin !== location.origin) return;
  event.preventDefault();
  navigate(a.pathname + a.search);
});
window.addEventListener('popstate', () => void route());

function renderSessionNav() {
  sessionNav.replaceChildren();
  if (!me) return;
  sessionNav.append(
    h('span', { class: 'who' }, h('span', { class: 'visually-hidden' }, 'Signed in as '), me.name || me.email),
    h('button', { type: 'button', class: 'button button-quiet', onclick: () => void logout() }, 'Log out'),
  );
}

async function logout() {
  try {
    await api.logout();
  } catch {
    /* the session is gone either way */
  }
  me = null;
  coursesCache = null;
  renderSessionNav();
  navigate('/login', true);
  announce('You are logged out.');
}

/** Shows a page: sets the title, swaps main's content, moves focus to its heading. */
function show(title: string, ...content: Node[]) {
  document.title = `${title} · Lectern`;
  main.replaceChildren(...content);
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

function loginRedirect() {
  me = null;
  renderSessionNav();
  const next = location.pathname + location.search;
  navigate('/login' + (next && next !== '/' && !next.startsWith('/login') ? `?next=${encodeURIComponent(next)}` : ''), true);
}

function showLoading(what: string) {
  main.replaceChildren(h('p', { class: 'muted', role: 'status' }, `Loading ${what}…`));
}

function showError(err: unknown, retry: () => void) {
  const message = err instanceof Error ? err.message : 'Something went wrong.';
  show(
    'Error',
    h('section', { class: 'panel' },
      h('h1', null, 'Something went wrong'),
      h('p', { role: 'alert' }, message),
      h('button', { type: 'button', class: 'button', onclick: retry }, 'Try again'),
    ),
  );
}

function showNotAvailable(kind: 'lecture' | 'course') {
  show(
    `This ${kind} is not available`,
    h('section', { class: 'panel not-available', 'data-testid': 'not-available' },
      h('h1', null, `This ${kind} is not available to you`),
      h('p', null,
        `It may not exist, or you are not enrolled in its course. If you think you should see it, ask your instructor or your institute's admins.`,
      ),
      h('p', null, h('a', { href: '/', 'data-link': true }, 'Go to my courses')),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Pages

/**
 * The page an activation link opens: `/activate#token=…`. The token rides in the fragment,
 * which the browser never sends to a server; the page posts it with the chosen password.
 */
function activatePage() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  if (!token) {
    return show(
      'Activation link incomplete',
      h('section', { class: 'panel login' },
        h('h1', null, 'This activation link is incomplete'),
        h('p', null, "Open the whole link your institute's admins gave you, or ask them for a new one."),
      ),
    );
  }
  const error = h('p', { class: 'form-error', id: 'activate-error', role: 'alert', hidden: true });
  const hint = h('p', { class: 'muted', id: 'password-hint' },
    'At least 8 characters. A few unrelated words make a good password; a commonly used one is refused.');
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 256, 'aria-describedby': 'password-hint activate-error' });
  const repeat = h('input', { id: 'repeat', name: 'repeat', type: 'password', autocomplete: 'new-password', required: true, 'aria-describedby': 'activate-error' });
  const submit = h('button', { type: 'submit', class: 'button' }, 'Set password');
  const form = h('form', { class: 'panel login' },
    h('h1', null, 'Set your password'),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'New password'), password, hint),
    h('div', { class: 'field' }, h('label', { for: 'repeat' }, 'Repeat it'), repeat),
    error,
    submit,
  );
  const fail = (message: string) => {
    error.textContent = message;
    error.hidden = false;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (password.value !== repeat.value) {
      fail('The two passwords differ.');
      return repeat.focus();
    }
    submit.disabled = true;
    submit.textContent = 'Setting password…';
    try {
      me = await api.activate(token, password.value);
      coursesCache = null;
      renderSessionNav();
      navigate('/', true);
      announce('Your password is set. Welcome to Lectern.');
    } catch (err) {
      fail(err instanceof Error ? err.message : 'Setting the password failed.');
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Set password';
    }
  });
  show('Set your password', form);
  password.focus();
}

function loginPage() {
  const params = new URLSearchParams(location.search);
  const next = params.get('next');
  const error = h('p', { class: 'form-error', id: 'login-error', role: 'alert', hidden: true });
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true, 'aria-describedby': 'login-error' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'button' }, 'Log in');
  const form = h('form', { class: 'panel login', novalidate: false },
    h('h1', null, 'Log in to Lectern'),
    h('div', { class: 'field' }, h('label', { for: 'email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), password),
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      me = await api.login(email.value.trim(), password.value);
      coursesCache = null;
      renderSessionNav();
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', true);
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : 'Login failed.';
      error.hidden = false;
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Log in';
    }
  });
  show('Log in', form);
  email.focus();
}

async function coursesPage() {
  const gen = routeGen;
  showLoading('your courses');
  let courses: Course[];
  try {
    courses = await api.courses();
    coursesCache = courses;
  } catch (err) {
    if (gen !== routeGen) return;
    if (err instanceof ApiError && err.status === 401) return loginRedirect();
    return showError(err, () => void route());
  }
  if (gen !== routeGen) return;
  const list = courses.length
    ? h('ul', { class: 'cards', 'aria-label': 'Courses' },
        ...courses.map((c) =>
          h('li', { class: 'card' },
            h('a', { href: `/courses/${encodeURIComponent(c.id)}`, 'data-link': true, class: 'card-link' },
              h('span', { class: 'card-title' }, c.title),
              h('span', { class: 'card-meta' }, [c.code, c.term].filter(Boolean).join(' · ')),
            ),
          ),
        ),
      )
    : h('p', { class: 'empty', 'data-testid': 'no-courses' }, 'You are not enrolled in any course yet.');
  show('My courses', h('section', null, h('h1', null, 'My courses'), list));
}

const STATE_LABEL: Record<LectureState, string> = {
  scheduled: 'Scheduled',
  capturing: 'Recording',
  processing: 'Processing',
  ready: 'Available',
  failed: 'Failed',
};

function stateBadges(l: Lecture): HTMLElement {
  return h('span', { class: 'badges' },
    l.live ? h('span', { class: 'badge badge-live', 'data-testid': 'live-badge' }, 'LIVE') : null,
    h('span', { class: `badge badge-${l.state}`, 'data-state': l.state }, STATE_LABEL[l.state] ?? l.state),
  );
}

async function coursePage(courseId: string) {
  const gen = routeGen;
  showLoading('the course');
  let course: Course | undefined;
  let lectures: Lecture[];
  try {
    const [ls, cs] = await Promise.all([api.lectures(courseId), coursesCache ? Promise.resolve(coursesCache) : api.courses()]);
    lectures = ls;
    coursesCache = cs;
    course = cs.find((c) => c.id === courseId);
  } catch (err) {
    if (gen !== routeGen) return;
    if (err instanceof ApiError && err.status === 401) return loginRedirect();
    if (err instanceof ApiError && err.status === 404) return showNotAvailable('course');
    return showError(err, () => void route());
  }

  if (gen !== routeGen) return;
  const listHolder = h('div', { 'aria-live': 'polite' });
  const renderList = (items: Lecture[]) => {
    listHolder.replaceChildren(
      items.length
        ? h('ul', { class: 'lectures', 'aria-label': 'Lectures' },
            ...items.map((l) =>
              h('li', { class: l.poster ? 'lecture-item has-poster' : 'lecture-item', 'data-lecture-id': l.id, 'data-live': l.live ? 'true' : 'false' },
                // Decorative: the title beside it names the lecture.
                l.poster ? h('img', { class: 'lecture-poster', src: l.poster, alt: '', loading: 'lazy', width: 96, height: 54 }) : null,
                h('a', { href: `/lectures/${encodeURIComponent(l.id)}`, 'data-link': true, class: 'lecture-link' }, l.title || 'Untitled lecture'),
                h('span', { class: 'lecture-meta' },
                  h('time', { datetime: l.started_at ?? '' }, formatDate(l.started_at)),
                  l.duration_seconds > 0 ? h('span', null, formatDuration(l.duration_seconds)) : null,
                ),
                stateBadges(l),
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'No lectures yet.'),
    );
  };
  renderList(lectures);
  show(
    course ? course.title : 'Course',
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/', 'data-link': true }, 'My courses')),
    h('section', null,
      h('h1', null, course ? course.title : 'Course'),
      course ? h('p', { class: 'muted' }, [course.code, course.term].filter(Boolean).join(' · ')) : null,
      h('h2', null, 'Lectures'),
      listHolder,
    ),
  );

  // Keep the list fresh so a lecture that starts shows up with its LIVE badge.
  const timer = window.setInterval(async () => {
    try {
      const fresh = await api.lectures(courseId);
      if (gen === routeGen) renderList(fresh);
    } catch (err) {
      if (gen === routeGen && err instanceof ApiError && err.status === 401) loginRedirect();
    }
  }, 5000);
  cleanup = () => window.clearInterval(timer);
}

async function lecturePage(lectureId: string) {
  const gen = routeGen;
  showLoading('the lecture');
  let lecture: Lecture;
  try {
    lecture = await api.lecture(lectureId);
  } catch (err) {
    if (gen !== routeGen) return;
    if (err instanceof ApiError && err.status === 401) return loginRedirect();
    if (err instanceof ApiError && err.status === 404) return showNotAvailable('lecture');
    return showError(err, () => void route());
  }

  if (gen !== routeGen) return;
  let active = true;
  let player: Player | null = null;
  let pollTimer: number | undefined;
  let playbackTimer: number | undefined;
  let stopTracking: (() => void) | null = null;

  const badges = h('span', null, stateBadges(lecture));
  const meta = h('p', { class: 'lecture-meta' });
  const status = h('p', { class: 'status', role: 'status' });
  const stage = h('div', { class: 'stage' });
  const chapters = h('div');
  const insights = h('section', { class: 'insights', 'aria-live': 'polite' });
  const renderMeta = () => {
    badges.replaceChildren(stateBadges(lecture));
    meta.replaceChildren(h('time', { datetime: lecture.started_at ?? '' }, formatDate(lecture.started_at)));
    if (lecture.duration_seconds > 0 && !lecture.live) meta.append(h('span', null, formatDuration(lecture.duration_seconds)));
  };
  renderMeta();
  show(
    lecture.title || 'Lecture',
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '/', 'data-link': true }, 'My courses'),
      h('span', { 'aria-hidden': 'true' }, ' / '),
      h('a', { href: `/courses/${encodeURIComponent(lecture.course_id)}`, 'data-link': true },
        coursesCache?.find((c) => c.id === lecture.course_id)?.title ?? 'Course'),
    ),
    h('article', { class: 'lecture' },
      h('div', { class: 'lecture-head' }, h('h1', null, lecture.title || 'Lecture'), badges),
      meta,
      stage,
      status,
      chapters,
      insights,
    ),
  );

  const setStatus = (message: string) => {
    status.textContent = message;
  };

  const stop = () => {
    active = false;
    window.clearTimeout(pollTimer);
    window.clearTimeout(playbackTimer);
    stopTracking?.();
    stopTracking = null;
    player?.destroy();
    player = null;
  };
  cleanup = stop;

  const fetchPlayback = async (): Promise<Playback | null> => {
    try {
      return await api.playback(lectureId);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  };
  const fetchMaster = async () => (await fetchPlayback())?.master ?? null;

  const startPlayback = async () => {
    if (!active) return;
    let playback: Playback | null;
    try {
      playback = await fetchPlayback();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return loginRedirect();
      setStatus(err instanceof Error ? err.message : 'The video cannot be loaded.');
      if (err instanceof ApiError && err.status === 403) {
        // Waiting does not help (a guardian's consent is missing): say so and stop.
        status.classList.add('status-error');
        return;
      }
      playbackTimer = window.setTimeout(startPlayback, 5000);
      return;
    }
    if (!active) return;
    if (!playback) {
      // Nothing playable yet while the recording starts; otherwise it is not for this viewer.
      if (lecture.state === 'scheduled' || lecture.state === 'capturing') {
        setStatus(lecture.state === 'scheduled' ? 'This lecture has not started yet.' : 'The stream is starting…');
        playbackTimer = window.setTimeout(startPlayback, 3000);
        return;
      }
      stop();
      showNotAvailable('lecture');
      return;
    }
    setStatus(lecture.live ? 'Live' : '');
    player = createPlayer({
      title: lecture.title,
      master: playback.master,
      poster: playback.poster,
      chapters: playback.chapters,
      refreshMaster: fetchMaster,
      onStatus: setStatus,
      onFatal: (message) => {
        setStatus(message);
        status.classList.add('status-error');
      },
    });
    stage.replaceChildren(player.element);
    chapters.replaceChildren(player.chapters);
    stopTracking = trackProgress(lectureId, player.video);
    void resume(player.video);
  };

  /** Starts a recorded lecture where the viewer stopped last time. */
  const resume = async (video: HTMLVideoElement) => {
    if (lecture.live) return;
    const at = await api.progress(lectureId).then((p) => p.position_seconds, () => 0);
    if (!active || at < 5 || at > lecture.duration_seconds - 5) return;
    const seek = () => {
      video.currentTime = at;
      setStatus(`Resumed where you stopped (${formatDuration(at)}).`);
    };
    if (video.readyState >= 1) seek();
    else video.addEventListener('loadedmetadata', seek, { once: true });
  };

  /** How its students watched it, as a chart: the catalog answers the course's staff and
   *  admins only (404 for everyone else, who see nothing here). */
  const showAnalytics = async () => {
    try {
      const analytics = await api.analytics(lectureId);
      if (active) insights.replaceChildren(h('h2', null, 'How students watched'), retentionChart(analytics));
    } catch (err) {
      if (active && err instanceof ApiError && err.code === 'cohort_too_small') {
        insights.replaceChildren(h('h2', null, 'How students watched'), h('p', { class: 'muted' }, err.message));
      }
    }
  };

  const poll = async () => {
    if (!active) return;
    if (lecture.state === 'capturing' || lecture.state === 'processing' || lecture.state === 'scheduled') {
      pollTimer = window.setTimeout(async () => {
        if (!active) return;
        try {
          const before = lecture.state;
          lecture = await api.lecture(lectureId);
          if (!active) return;
          renderMeta();
          if (lecture.state !== before) {
            announce(`The lecture is now ${STATE_LABEL[lecture.state].toLowerCase()}.`);
            if (!lecture.live) setStatus('');
            if (lecture.state === 'ready') {
              player?.lectureReady();
            } else if (lecture.state === 'failed') {
              setStatus(lecture.error ?? 'This recording failed.');
            }
          }
        } catch (err) {
          if (err instanceof ApiError && err.status === 401) return loginRedirect();
          if (err instanceof ApiError && err.status === 404) {
            stop();
            return showNotAvailable('lecture');
          }
          /* transient: keep polling */
        }
        void poll();
      }, 3000);
    }
  };

  if (lecture.state === 'failed') {
    setStatus(lecture.error ?? 'This recording failed.');
  }
  await startPlayback();
  void showAnalytics();
  void poll();
}

function notFoundPage() {
  show('Page not found',
    h('section', { class: 'panel' },
      h('h1', null, 'Page not found'),
      h('p', null, h('a', { href: '/', 'data-link': true }, 'Go to my courses')),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Router

let sessionChecked = false;

async function route() {
  const gen = ++routeGen;
  cleanup?.();
  cleanup = null;
  const path = location.pathname.replace(/\/+$/, '') || '/';

  if (!sessionChecked) {
    sessionChecked = true;
    try {
      me = await api.me();
    } catch {
      me = null;
    }
    renderSessionNav();
    if (gen !== routeGen) return;
  }

  if (path === '/activate') return activatePage();
  if (path === '/login') {
    if (me) return navigate('/', true);
    return loginPage();
  }
  if (!me) return loginRedirect();

  let m: RegExpMatchArray | null;
  if (path === '/' || path === '/courses') return coursesPage();
  if ((m = path.match(/^\/courses\/([^/]+)$/))) return coursePage(decodeURIComponent(m[1]));
  if ((m = path.match(/^\/lectures\/([^/]+)$/))) return lecturePage(decodeURIComponent(m[1]));
  return notFoundPage();
}

void route();

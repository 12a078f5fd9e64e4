// Browser end-to-end test of playback: starts the whole stack with `./lectern up`, drives Debian's
// Chromium through playwright-core, and watches a lecture live, then on demand, then as an outsider.
//
//   cd tests/e2e && npm ci && cd ../.. && node --test tests/e2e/
//
// Environment (all optional):
//   LECTERN_E2E_CMD       the stack's launcher, run from the repo root (default ./lectern)
//   LECTERN_E2E_CHROMIUM  the browser (default /usr/bin/chromium)
//   LECTERN_E2E_VERBOSE=1 echo the stack's output to stderr while it runs
//   LECTERN_E2E_KEEP=1    keep the stack's state dir after the run
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LECTERN_CMD = process.env.LECTERN_E2E_CMD ?? './lectern';
const CHROMIUM = process.env.LECTERN_E2E_CHROMIUM ?? '/usr/bin/chromium';
const VERBOSE = process.env.LECTERN_E2E_VERBOSE === '1';
const RECORD_SECONDS = 30;
/** With LECTERN_SCREENSHOTS=1 the tests refresh the screenshots the README shows. */
const SCREENSHOT_DIR = process.env.LECTERN_SCREENSHOTS === '1' ? path.join(REPO_ROOT, 'player-web/screenshots') : null;

async function snapshot(page, name) {
  if (!SCREENSHOT_DIR) return;
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}
const STARTUP_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 15_000;

const STUDENT = 'student@demo.lectern.test';
const INSTRUCTOR = 'instructor@demo.lectern.test';
/** The length of the podcast-style MP3 the instructor uploads. */
const PODCAST_SECONDS = 8;
const OUTSIDER = 'outsider@demo.lectern.test';
const PASSWORD = 'lectern-demo';

/**
 * hls.js ERROR events a healthy playback may still show. Only non-fatal ones, and only these:
 * - the gap controller's stall handling: `bufferStalledError` (the live edge waits for the next
 *   segment), `bufferNudgeOnStall`, `bufferSeekOverHole` (the first segment's timestamps do not
 *   start at 0, e.g. mpegtsmux's offset, so hls.js skips the hole at the very start);
 * - `aborted`: hls.js cancelling its own fragment request because the test seeked.
 * Anything else, and anything fatal, fails the test.
 */
const TOLERATED_NON_FATAL = new Set(['bufferStalledError', 'bufferNudgeOnStall', 'bufferSeekOverHole', 'aborted']);

// ---------------------------------------------------------------------------------------------
// The stack

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `./lectern up` and resolves once it prints its URL. */
async function startStack() {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lectern-e2e-'));
  const port = await freePort();
  const logPath = path.join(stateDir, 'stack.log');
  const log = fs.createWriteStream(logPath);
  const tail = [];
  const [cmd, ...cmdArgs] = LECTERN_CMD.split(' ');
  const args = [...cmdArgs, 'up', '--state-dir', stateDir, '--port', String(port), '--record-seconds', String(RECORD_SECONDS)];
  // A process group of its own, so a forced stop reaches every process it started.
  const child = spawn(cmd, args, { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stack = { child, exited, stateDir, logPath, port, baseUrl: null, tail };

  const urlPattern = new RegExp(`http://127\\.0\\.0\\.1:${port}/`);
  const ready = new Promise((resolve, reject) => {
    let buffered = { stdout: '', stderr: '' };
    const onData = (stream) => (chunk) => {
      const text = chunk.toString();
      log.write(text);
      if (VERBOSE) process.stderr.write(text);
      buffered[stream] += text;
      const lines = buffered[stream].split('\n');
      buffered[stream] = lines.pop();
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 60) tail.shift();
        if (stream === 'stdout' && urlPattern.test(line)) resolve(`http://127.0.0.1:${port}`);
      }
    };
    child.stdout.on('data', onData('stdout'));
    child.stderr.on('data', onData('stderr'));
    child.once('error', (err) => reject(new Error(`cannot start ${LECTERN_CMD}: ${err.message}`)));
    exited.then(({ code, signal }) =>
      reject(new Error(`${LECTERN_CMD} up exited (code ${code}, signal ${signal}) before printing its URL:\n${tail.join('\n')}`)),
    );
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${LECTERN_CMD} up printed no http://127.0.0.1:${port}/ line within ${STARTUP_TIMEOUT_MS / 1000} s:\n${tail.join('\n')}`)),
      STARTUP_TIMEOUT_MS,
    );
  });
  try {
    stack.baseUrl = await Promise.race([ready, timeout]);
  } catch (err) {
    await stopStack(stack);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return stack;
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGINT to the launcher (its contract: SIGINT stops everything cleanly, in its own order), then
 * SIGKILL to its whole process group after the grace period; leftovers are swept and reported.
 */
async function stopStack(stack) {
  const { child } = stack;
  if (!child.pid) return;
  const signalGroup = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, 'SIGINT');
    } catch {
      /* already gone */
    }
    const grace = new AbortController();
    const result = await Promise.race([stack.exited, delay(STOP_GRACE_MS, null, { signal: grace.signal }).catch(() => null)]);
    grace.abort();
    if (!result) {
      console.error(`# ${LECTERN_CMD} did not stop within ${STOP_GRACE_MS / 1000} s of SIGINT: SIGKILL`);
      signalGroup('SIGKILL');
      await stack.exited;
    }
  }
  // Whatever the launcher left behind in its group goes too (and is reported).
  const deadline = Date.now() + 5000;
  while (groupAlive(child.pid) && Date.now() < deadline) await delay(200);
  if (groupAlive(child.pid)) {
    console.error(`# processes of ${LECTERN_CMD} outlived it: SIGKILL`);
    signalGroup('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Polls `probe` (an async function) until it returns a truthy value. */
async function pollUntil(what, probe, { timeout, interval = 1000 }) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`);
    await delay(interval);
  }
}

async function login(page, baseUrl, email) {
  await page.goto(baseUrl + '/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'My courses', level: 1 }).waitFor({ timeout: 15_000 });
}

/** An API call made by the page, with its session cookie. */
function apiFromPage(page, url) {
  return page.evaluate(async (u) => {
    const res = await fetch(u, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    let body = null;
    try {
      body = await res.json();
    } catch {
      /* not JSON */
    }
    return { status: res.status, body };
  }, url);
}

function playerErrors(page) {
  return page.evaluate(() => (window.lecternPlayer ? window.lecternPlayer.errors.slice() : []));
}

function assertHealthyPlayback(errors, when) {
  if (errors.length) console.error(`# hls.js errors ${when}: ${JSON.stringify(errors)}`);
  const fatal = errors.filter((e) => e.fatal);
  assert.deepEqual(fatal, [], `fatal hls.js errors ${when}`);
  const unexpected = errors.filter((e) => !TOLERATED_NON_FATAL.has(e.details));
  assert.deepEqual(unexpected, [], `hls.js errors ${when}`);
}

// ---------------------------------------------------------------------------------------------
// The tests

describe('playback in the browser', () => {
  let stack;
  let browser;
  let studentContext;
  let livePage;
  let lectureId = null;
  const requests = [];
  const pageErrors = [];

  const newContext = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.on('request', (r) => requests.push(r.url()));
    context.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(String(e))));
    return context;
  };

  /** The lecture test (a) found; if (a) failed early, the student's first lecture. */
  const theLecture = async () => {
    if (lectureId) return lectureId;
    const page = await studentContext.newPage();
    await login(page, stack.baseUrl, STUDENT);
    const courses = await apiFromPage(page, '/api/v1/courses');
    for (const c of courses.body ?? []) {
      const ls = await apiFromPage(page, `/api/v1/courses/${c.id}/lectures`);
      if (ls.body?.length) lectureId = ls.body[0].id;
    }
    await page.close();
    assert.ok(lectureId, 'the student sees a lecture');
    return lectureId;
  };

  before(async () => {
    stack = await startStack();
    console.error(`# stack up at ${stack.baseUrl} (state ${stack.stateDir})`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    studentContext = await newContext();
  }, { timeout: STARTUP_TIMEOUT_MS + 60_000 });

  after(async () => {
    await browser?.close().catch(() => {});
    if (stack) {
      await stopStack(stack);
      if (process.env.LECTERN_E2E_KEEP !== '1') fs.rmSync(stack.stateDir, { recursive: true, force: true });
      else console.error(`# kept ${stack.stateDir}`);
    }
  }, { timeout: STOP_GRACE_MS + 30_000 });

  test('the enrolled student logs in, opens the course, sees the live lecture and plays it live', { timeout: 180_000 }, async () => {
    const page = await studentContext.newPage();
    livePage = page;
    await login(page, stack.baseUrl, STUDENT);

    const course = page.getByRole('list', { name: 'Courses' }).getByRole('link').first();
    await course.waitFor({ timeout: 15_000 });
    await course.click();
    await page.getByRole('heading', { name: 'Lectures', level: 2 }).waitFor();

    // The course page refreshes itself; the recording shows up with its LIVE badge.
    const live = page.locator('li.lecture-item[data-live="true"]').first();
    await live.waitFor({ timeout: 120_000 });
    assert.equal((await live.getByTestId('live-badge').textContent())?.trim(), 'LIVE');
    lectureId = await live.getAttribute('data-lecture-id');
    assert.ok(lectureId);
    await snapshot(page, 'student-course-page');
    await live.getByRole('link').click();
    await page.waitForURL(`**/lectures/${lectureId}`);

    await page.waitForFunction(() => window.lecternPlayer?.video?.readyState >= 1, null, { timeout: 60_000 });
    // The player starts by itself; press play the way a person would if it did not.
    await page.evaluate(() => window.lecternPlayer.video.paused && window.lecternPlayer.video.play());
    await page.waitForFunction(
      () => {
        const v = window.lecternPlayer?.video;
        return v && !v.paused && v.currentTime > 0 && v.readyState >= 3;
      },
      null,
      { timeout: 60_000 },
    );
    const start = await page.evaluate(() => ({
      t: window.lecternPlayer.video.currentTime,
      live: window.lecternPlayer.hls ? window.lecternPlayer.hls.latestLevelDetails?.live : null,
    }));
    assert.equal(start.live, true, 'hls.js plays a live (EVENT, no ENDLIST) playlist');
    const api = await apiFromPage(page, `/api/v1/lectures/${lectureId}`);
    assert.equal(api.status, 200);
    assert.ok(['capturing', 'processing', 'ready'].includes(api.body.state), `state ${api.body.state}`);

    await page.waitForFunction((t0) => window.lecternPlayer.video.currentTime >= t0 + 3, start.t, { timeout: 30_000 });
    const after3 = await page.evaluate(() => ({ paused: window.lecternPlayer.video.paused, error: window.lecternPlayer.video.error?.code ?? null }));
    assert.equal(after3.error, null, 'the <video> has no media error');
    assertHealthyPlayback(await playerErrors(page), 'while playing live');
    await snapshot(page, 'student-player-live');
  });

  test('after the recording stops and the lecture is ready, the student plays it on demand to the end', { timeout: 240_000 }, async () => {
    const id = await theLecture();
    const page = livePage ?? (await studentContext.newPage());
    if (!livePage) await page.goto(`${stack.baseUrl}/lectures/${id}`);

    const lecture = await pollUntil(
      'the lecture to be ready',
      async () => {
        const r = await apiFromPage(page, `/api/v1/lectures/${id}`);
        assert.equal(r.status, 200, 'the student may see the lecture');
        assert.notEqual(r.body.state, 'failed', `the lecture failed: ${r.body.error}`);
        return r.body.state === 'ready' ? r.body : null;
      },
      { timeout: 150_000, interval: 1000 },
    );
    assert.equal(lecture.live, false, 'a ready lecture is no longer live');

    if (livePage) {
      // The page that watched live went on as on-demand: hls.js has seen ENDLIST, no fatal error.
      await page.waitForFunction(() => window.lecternPlayer?.hls?.latestLevelDetails?.live === false, null, { timeout: 30_000 });
      const state = await page.evaluate(() => {
        const v = window.lecternPlayer.video;
        return { error: v.error?.code ?? null, playingOrEnded: !v.paused || v.ended };
      });
      assert.equal(state.error, null);
      assert.ok(state.playingOrEnded, 'the live player kept playing through the switch to on-demand');
      assert.deepEqual((await playerErrors(page)).filter((e) => e.fatal), [], 'fatal hls.js errors across the switch to on-demand');
    }

    // A fresh visit plays it as on-demand.
    await page.goto(`${stack.baseUrl}/lectures/${id}`);
    await page.waitForFunction(
      () => {
        const p = window.lecternPlayer;
        const d = p?.video?.duration;
        return p?.hls?.latestLevelDetails?.live === false && Number.isFinite(d) && d > 0;
      },
      null,
      { timeout: 60_000 },
    );
    const duration = await page.evaluate(() => window.lecternPlayer.video.duration);
    assert.ok(duration >= 25 && duration <= 35, `on-demand duration ${duration} s is about ${RECORD_SECONDS} s`);

    // The worker's poster stands in the video before it plays: a 640-wide JPEG the browser decodes.
    const poster = await page.evaluate(() => window.lecternPlayer.video.poster);
    assert.match(poster, /\/media\/[^/]+\/presenter\/poster\.jpg\?token=/, 'the video shows the lecture poster');
    const posterWidth = await page.evaluate(async (url) => {
      const img = new Image();
      img.src = url;
      await img.decode();
      return img.naturalWidth;
    }, poster);
    assert.equal(posterWidth, 640);

    await page.evaluate(() => {
      const v = window.lecternPlayer.video;
      window.__lecternEnded = false;
      v.addEventListener('ended', () => (window.__lecternEnded = true), { once: true });
      v.currentTime = Math.max(0, v.duration - 4);
      return v.play();
    });
    await page.waitForFunction(() => window.__lecternEnded === true && window.lecternPlayer.video.ended, null, { timeout: 45_000 });
    assertHealthyPlayback(await playerErrors(page), 'while playing on demand');
  });

  test('an MP3 the instructor uploads becomes an audio-only lecture the student plays to the end', { timeout: 180_000 }, async () => {
    // A podcast-style lecture: sound alone, MP3.
    const mp3 = path.join(stack.stateDir, 'podcast-lecture.mp3');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(PODCAST_SECONDS), '-c:a', 'libmp3lame', mp3]);
    assert.equal(made.status, 0, `ffmpeg: ${made.stderr}`);
    const bytes = Array.from(fs.readFileSync(mp3));

    const context = await newContext();
    const staff = await context.newPage();
    await login(staff, stack.baseUrl, INSTRUCTOR);
    const courses = await apiFromPage(staff, '/api/v1/courses');
    const course = courses.body?.[0]?.id;
    assert.ok(course, 'the instructor has a course');
    const uploaded = await staff.evaluate(
      async ({ course, bytes }) => {
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(bytes)], { type: 'audio/mpeg' }), 'podcast-lecture.mp3');
        form.append('title', 'Podcast lecture');
        const res = await fetch(`/api/v1/courses/${course}/uploads`, { method: 'POST', body: form, credentials: 'same-origin' });
        return { status: res.status, body: await res.json() };
      },
      { course, bytes },
    );
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    const id = uploaded.body.lecture_id;
    await pollUntil(
      'the upload to be ready',
      async () => {
        const r = await apiFromPage(staff, `/api/v1/lectures/${id}`);
        assert.notEqual(r.body?.state, 'failed', `the upload failed: ${r.body?.error}`);
        return r.body?.state === 'ready';
      },
      { timeout: 90_000 },
    );
    const published = await staff.evaluate(async (u) => (await fetch(u, { method: 'POST', credentials: 'same-origin' })).status, `/api/v1/lectures/${id}/publish`);
    assert.equal(published, 200, 'the instructor publishes it');
    await context.close();

    const page = await studentContext.newPage();
    await page.goto(`${stack.baseUrl}/lectures/${id}`);
    await page.waitForFunction(
      () => {
        const p = window.lecternPlayer;
        return p?.hls?.levels?.length > 0 && Number.isFinite(p.video?.duration) && p.video.duration > 0;
      },
      null,
      { timeout: 60_000 },
    );
    // hls.js takes the master's one variant for what it is: sound, no picture.
    const levels = await page.evaluate(() => window.lecternPlayer.hls.levels.map((l) => ({ video: l.videoCodec ?? null, audio: l.audioCodec ?? null, height: l.height })));
    assert.deepEqual(levels, [{ video: null, audio: 'mp4a.40.2', height: 0 }]);
    const duration = await page.evaluate(() => window.lecternPlayer.video.duration);
    assert.ok(Math.abs(duration - PODCAST_SECONDS) <= 0.5, `duration ${duration} s is ${PODCAST_SECONDS} s`);
    await page.evaluate(() => {
      const v = window.lecternPlayer.video;
      window.__lecternEnded = false;
      v.addEventListener('ended', () => (window.__lecternEnded = true), { once: true });
      v.currentTime = Math.max(0, v.duration - 3);
      return v.play();
    });
    await page.waitForFunction(() => window.__lecternEnded === true, null, { timeout: 30_000 });
    const state = await page.evaluate(() => ({ error: window.lecternPlayer.video.error?.code ?? null, time: window.lecternPlayer.video.currentTime }));
    assert.equal(state.error, null, 'the <video> has no media error');
    assert.ok(state.time >= PODCAST_SECONDS - 0.5, `played to ${state.time} s`);
    assertHealthyPlayback(await playerErrors(page), 'while playing sound alone');
    await page.close();
  });

  test('the outsider sees no course, is told the lecture is not available and gets 404 for its playback', { timeout: 60_000 }, async () => {
    const id = await theLecture();
    const context = await newContext();
    const page = await context.newPage();
    await login(page, stack.baseUrl, OUTSIDER);

    await page.getByTestId('no-courses').waitFor();
    assert.equal(await page.locator('ul[aria-label="Courses"] a').count(), 0, 'the outsider sees no course');

    await page.goto(`${stack.baseUrl}/lectures/${id}`);
    await page.getByRole('heading', { name: 'This lecture is not available to you' }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('video').count(), 0, 'no player for the outsider');
    await snapshot(page, 'outsider-not-available');

    const playback = await apiFromPage(page, `/api/v1/lectures/${id}/playback`);
    assert.equal(playback.status, 404, 'playback is 404 for the outsider');
    const lecture = await apiFromPage(page, `/api/v1/lectures/${id}`);
    assert.equal(lecture.status, 404, 'the lecture is 404 for the outsider');
    await context.close();
  });

  test('the player loads nothing from another origin', () => {
    assert.ok(requests.length > 0, 'requests were recorded');
    const origin = new URL(stack.baseUrl).origin;
    const foreign = requests.filter((u) => {
      const url = new URL(u);
      if (url.protocol === 'data:' || url.protocol === 'blob:') return false;
      return url.origin !== origin;
    });
    assert.deepEqual(foreign, [], 'requests to other origins');
    assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
  });
});

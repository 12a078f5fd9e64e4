// Client for the catalog's public API (docs/contracts.md, wire/src/api.rs).

export type Role = 'admin' | 'instructor' | 'student';

export interface Me {
  id: string;
  email: string;
  name: string;
  role: Role;
  institute_id: string;
  institute_name: string;
}

export interface Course {
  id: string;
  code: string;
  title: string;
  term: string;
}

export type LectureState = 'scheduled' | 'capturing' | 'processing' | 'ready' | 'failed';

export interface Lecture {
  id: string;
  course_id: string;
  title: string;
  state: LectureState;
  live: boolean;
  started_at: string | null;
  ended_at: string | null;
  duration_seconds: number;
  error: string | null;
  /** The poster's URL (with a media token), null until there is one. */
  poster: string | null;
}

export interface Playback {
  master: string;
  /** A picture to show before playing. */
  poster: string | null;
  /** Timeline thumbnails (WebVTT onto sprite sheets); not shown yet: the player uses native controls. */
  thumbnails: string | null;
  /** Chapters at the slide changes (WebVTT). */
  chapters: string | null;
}

/** The caller's own place in a lecture (`GET /api/v1/lectures/{id}/progress`). */
export interface Progress {
  lecture_id: string;
  position_seconds: number;
  views: number;
  watched_seconds: number | null;
  updated_at: string | null;
}

/** What the player reports (`PUT /api/v1/lectures/{id}/progress`): running totals of one view. */
export interface ProgressReport {
  view: string;
  position_seconds: number;
  watched_seconds: number;
  /** Parts of the timeline played since the last report, as [from, to] seconds. */
  watched: [number, number][];
}

/** How a lecture was watched, over five or more students (`GET /api/v1/lectures/{id}/analytics`). */
export interface LectureAnalytics {
  lecture_id: string;
  minimum_cohort: number;
  unique_viewers: number;
  views: number;
  watched_seconds: number;
  bucket_seconds: number;
  /** Per part of the timeline, the share (0 to 1) of viewers who played some of it. */
  retention: number[];
}

/** An error answer from the API: HTTP status plus the body's `{error: {code, message}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function request<T>(method: string, path: string, body?: unknown, keepalive = false): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      keepalive,
      credentials: 'same-origin',
      headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Lectern cannot be reached. Check your connection and try again.');
  }
  if (!res.ok) {
    let code = 'http_' + res.status;
    let message = res.statusText || `Request failed (${res.status})`;
    try {
      const data = (await res.json()) as { error?: { code?: string; message?: string } };
      if (data?.error?.code) code = data.error.code;
      if (data?.error?.message) message = data.error.message;
    } catch {
      /* not JSON: keep the status text */
    }
    throw new ApiError(res.status, code, message);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

const enc = encodeURIComponent;

export const api = {
  login: (email: string, password: string) => request<Me>('POST', '/api/v1/auth/login', { email, password }),
  activate: (token: string, password: string) => request<Me>('POST', '/api/v1/auth/activate', { token, password }),
  logout: () => request<void>('POST', '/api/v1/auth/logout'),
  me: () => request<Me>('GET', '/api/v1/me'),
  courses: () => request<Course[]>('GET', '/api/v1/courses'),
  lectures: (courseId: string) => request<Lecture[]>('GET', `/api/v1/courses/${enc(courseId)}/lectures`),
  lecture: (id: string) => request<Lecture>('GET', `/api/v1/lectures/${enc(id)}`),
  playback: (id: string) => request<Playback>('GET', `/api/v1/lectures/${enc(id)}/playback`),
  progress: (id: string) => request<Progress>('GET', `/api/v1/lectures/${enc(id)}/progress`),
  /** `keepalive`: the report of a page being left still arrives. */
  reportProgress: (id: string, report: ProgressReport, keepalive = false) =>
    request<void>('PUT', `/api/v1/lectures/${enc(id)}/progress`, report, keepalive),
  analytics: (id: string) => request<LectureAnalytics>('GET', `/api/v1/lectures/${enc(id)}/analytics`),
};

// What the lab API says of the preview (docs/protocol.md, preview-status and preview-script): the last
// page the preview proxy served, and the timing of each request of that page, measured by the proxy.

/** One request the preview made, timed from the moment the proxy sent it to the lab. */
export interface PreviewRequestTiming {
  /** the proxy's id for it, also sent to the lab as X-Atelier-Request (16 hex digits) */
  id: string;
  path: string;
  /** 0 when the lab gave no valid answer */
  status: number;
  /** a page (the frame's navigation), not what it loads */
  navigation: boolean;
  /** the answer's status line and headers arrived (time to first byte), ms; null if none came */
  firstByteMs: number | null;
  /** its last byte arrived, ms; null until then, or if it broke */
  lastByteMs: number | null;
}

export interface PreviewStatus {
  path: string;
  status: number;
  statusText: string;
  at: number;
  /** grows with every result, also across restarts */
  seq: number;
  /** that page's navigation, then what it loaded, in order (at most PREVIEW_REQUESTS_KEPT) */
  requests: PreviewRequestTiming[];
}

/** How long a PHP script of the lab really ran for a preview request (php-fpm's access log). */
export interface ScriptTiming {
  request: string;
  durationMs: number;
}

export const PREVIEW_REQUESTS_KEPT = 20;
export const REQUEST_ID = /^[0-9a-f]{16}$/;

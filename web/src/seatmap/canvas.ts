// The seat map on a canvas: every seat drawn once into an offscreen layer (one pixel block per
// seat), then each frame blits only the visible part of that layer. A delta repaints only the
// seats it names. Zoomed in far, the visible seats are drawn one by one (culled) so they stay sharp.
import type { Seatmap } from '../api.ts';

export const FREE = 0;
export const TAKEN = 1;
export const MINE = 2;

const PALETTE = ['#1d4ed8', '#047857', '#7e22ce', '#0e7490', '#be185d', '#4d7c0f', '#b45309', '#1e40af'];
// Taken seats: a neutral grey with 4.5:1 contrast on the map's background; zoomed in they are also drawn hollow.
const TAKEN_COLOUR = '#64748b';
const MINE_COLOUR = '#ea580c';
const BACKGROUND = '#ffffff';

export function sectionColour(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export interface SeatIndex {
  count: number;
  x: Float32Array;
  y: Float32Array;
  section: Uint16Array;
  ids: string[];
  byId: Map<string, number>;
  minX: number;
  minY: number;
  width: number;
  height: number;
}

/** Flattens the seat map into arrays by seat index, in seat units (neighbouring seats 1 apart). */
export function indexSeats(map: Seatmap): SeatIndex {
  let count = 0;
  for (const s of map.sections) for (const r of s.rows ?? []) for (const seat of r.seats) count = Math.max(count, seat.index + 1);
  // Seat spacing: the smallest gap between neighbours of a row (explicit layouts may use any scale).
  let unit = Infinity;
  for (const s of map.sections) {
    for (const r of s.rows ?? []) {
      for (let i = 1; i < r.seats.length && i < 50; i++) {
        const d = Math.hypot(r.seats[i]!.x - r.seats[i - 1]!.x, r.seats[i]!.y - r.seats[i - 1]!.y);
        if (d > 0) unit = Math.min(unit, d);
      }
    }
  }
  if (!Number.isFinite(unit)) unit = 1;
  const x = new Float32Array(count);
  const y = new Float32Array(count);
  const section = new Uint16Array(count);
  const ids: string[] = new Array<string>(count);
  const byId = new Map<string, number>();
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  map.sections.forEach((s, si) => {
    for (const r of s.rows ?? []) {
      for (const seat of r.seats) {
        const i = seat.index;
        x[i] = seat.x / unit;
        y[i] = seat.y / unit;
        section[i] = si;
        ids[i] = seat.id;
        byId.set(seat.id, i);
        minX = Math.min(minX, x[i]);
        minY = Math.min(minY, y[i]);
        maxX = Math.max(maxX, x[i]);
        maxY = Math.max(maxY, y[i]);
      }
    }
  });
  if (count === 0) minX = minY = maxX = maxY = 0;
  return { count, x, y, section, ids, byId, minX, minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}

export interface SeatCanvasOptions {
  onSeatClick(index: number): void;
  onFirstFrame?(): void;
}

export class SeatCanvas {
  readonly status: Uint8Array;
  private readonly layer: HTMLCanvasElement;
  private readonly layerCtx: CanvasRenderingContext2D;
  private readonly k: number;
  private scale = 1;
  private ox = 0;
  private oy = 0;
  private dirty = true;
  private frame = 0;
  private first = true;
  private pointers = new Map<number, { x: number; y: number }>();
  private moved = 0;
  private pinch = 0;
  private readonly resize: ResizeObserver;
  private hashed = new Map<number, number>();

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly seats: SeatIndex,
    private readonly options: SeatCanvasOptions,
  ) {
    this.status = new Uint8Array(seats.count);
    // Pixels per seat in the layer: as many as fit in a 4096-pixel canvas, at most 8.
    this.k = Math.max(1, Math.min(8, Math.floor(4096 / Math.max(seats.width, seats.height))));
    this.layer = document.createElement('canvas');
    this.layer.width = Math.ceil(seats.width * this.k);
    this.layer.height = Math.ceil(seats.height * this.k);
    this.layerCtx = this.layer.getContext('2d')!;
    for (let i = 0; i < seats.count; i++) this.hashed.set(this.key(seats.x[i]!, seats.y[i]!), i);
    this.paintAll();
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(canvas);
    canvas.addEventListener('pointerdown', this.down);
    canvas.addEventListener('pointermove', this.move);
    canvas.addEventListener('pointerup', this.up);
    canvas.addEventListener('pointercancel', this.up);
    canvas.addEventListener('wheel', this.wheel, { passive: false });
    canvas.addEventListener('keydown', this.key_);
    this.fit();
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
  }

  private key(x: number, y: number) {
    return Math.round(x) * 1_000_003 + Math.round(y);
  }

  private colour(i: number): string {
    const s = this.status[i];
    return s === MINE ? MINE_COLOUR : s === TAKEN ? TAKEN_COLOUR : sectionColour(this.seats.section[i]!);
  }

  private paintSeat(i: number) {
    const k = this.k;
    const x = (this.seats.x[i]! - this.seats.minX) * k;
    const y = (this.seats.y[i]! - this.seats.minY) * k;
    const pad = k >= 3 ? Math.max(0.5, k * 0.12) : 0;
    this.layerCtx.fillStyle = BACKGROUND;
    this.layerCtx.fillRect(x, y, k, k);
    this.layerCtx.fillStyle = this.colour(i);
    this.layerCtx.fillRect(x + pad, y + pad, k - 2 * pad, k - 2 * pad);
  }

  private paintAll() {
    const ctx = this.layerCtx;
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, this.layer.width, this.layer.height);
    // Batch by colour: one fillStyle change per colour instead of per seat.
    const k = this.k;
    const pad = k >= 3 ? Math.max(0.5, k * 0.12) : 0;
    const groups = new Map<string, number[]>();
    for (let i = 0; i < this.seats.count; i++) {
      const c = this.colour(i);
      let g = groups.get(c);
      if (!g) groups.set(c, (g = []));
      g.push(i);
    }
    for (const [c, list] of groups) {
      ctx.fillStyle = c;
      for (const i of list) {
        ctx.fillRect(
          (this.seats.x[i]! - this.seats.minX) * k + pad,
          (this.seats.y[i]! - this.seats.minY) * k + pad,
          k - 2 * pad,
          k - 2 * pad,
        );
      }
    }
    this.invalidate();
  }

  /** Replaces every seat's status (a snapshot). */
  setAll(status: Uint8Array) {
    this.status.set(status.subarray(0, this.status.length));
    this.paintAll();
  }

  /** Changes some seats; repaints only those. */
  update(changes: Iterable<[number, number]>) {
    for (const [i, s] of changes) {
      if (i < 0 || i >= this.status.length || this.status[i] === s) continue;
      this.status[i] = s;
      this.paintSeat(i);
    }
    this.invalidate();
  }

  private invalidate() {
    if (this.dirty && this.frame) return;
    this.dirty = true;
    this.frame = requestAnimationFrame(() => this.draw());
  }

  /** Shows the whole map. */
  fit() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(r.width * dpr));
    this.canvas.height = Math.max(1, Math.round(r.height * dpr));
    this.scale = Math.min(r.width / (this.seats.width + 2), r.height / (this.seats.height + 2));
    this.ox = (r.width - this.seats.width * this.scale) / 2;
    this.oy = (r.height - this.seats.height * this.scale) / 2;
    this.invalidate();
  }

  zoom(factor: number, cx?: number, cy?: number) {
    const r = this.canvas.getBoundingClientRect();
    const x = cx ?? r.width / 2;
    const y = cy ?? r.height / 2;
    const next = Math.min(80, Math.max(0.2, this.scale * factor));
    const f = next / this.scale;
    this.ox = x - (x - this.ox) * f;
    this.oy = y - (y - this.oy) * f;
    this.scale = next;
    this.invalidate();
  }

  pan(dx: number, dy: number) {
    this.ox += dx;
    this.oy += dy;
    this.invalidate();
  }

  /** Where seat i's centre is, in CSS pixels relative to the viewport (for tests and focus rings). */
  seatToClient(i: number): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return {
      x: r.left + this.ox + (this.seats.x[i]! - this.seats.minX + 0.5) * this.scale,
      y: r.top + this.oy + (this.seats.y[i]! - this.seats.minY + 0.5) * this.scale,
    };
  }

  /** Centres the view on seat i at a zoom where seats are easy to click. */
  focusSeat(i: number, scale = 16) {
    const r = this.canvas.getBoundingClientRect();
    this.scale = scale;
    this.ox = r.width / 2 - (this.seats.x[i]! - this.seats.minX + 0.5) * scale;
    this.oy = r.height / 2 - (this.seats.y[i]! - this.seats.minY + 0.5) * scale;
    this.invalidate();
  }

  /** Frames drawn and the time they took (the seat page shows none of it; tests read it). */
  readonly drawStats = { frames: 0, totalMs: 0, maxMs: 0 };

  private draw() {
    const started = performance.now();
    this.frame = 0;
    this.dirty = false;
    const ctx = this.canvas.getContext('2d')!;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#f1f5f9';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const w = this.canvas.width / dpr;
    const h = this.canvas.height / dpr;
    // The visible region in seat units.
    const x0 = Math.max(0, -this.ox / this.scale);
    const y0 = Math.max(0, -this.oy / this.scale);
    const x1 = Math.min(this.seats.width, (w - this.ox) / this.scale);
    const y1 = Math.min(this.seats.height, (h - this.oy) / this.scale);
    if (x1 > x0 && y1 > y0) {
      if (this.scale * dpr <= this.k * 1.5) {
        ctx.imageSmoothingEnabled = this.scale * dpr < this.k;
        ctx.imageSmoothingQuality = 'high';
        const k = this.k;
        ctx.drawImage(
          this.layer,
          x0 * k,
          y0 * k,
          (x1 - x0) * k,
          (y1 - y0) * k,
          this.ox + x0 * this.scale,
          this.oy + y0 * this.scale,
          (x1 - x0) * this.scale,
          (y1 - y0) * this.scale,
        );
      } else {
        this.drawSeats(ctx, x0 - 1, y0 - 1, x1 + 1, y1 + 1);
      }
    }
    const ms = performance.now() - started;
    this.drawStats.frames += 1;
    this.drawStats.totalMs += ms;
    this.drawStats.maxMs = Math.max(this.drawStats.maxMs, ms);
    if (this.first) {
      this.first = false;
      this.options.onFirstFrame?.();
    }
  }

  /** Zoomed in: draw only the seats inside the visible region, as rounded squares. */
  private drawSeats(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number) {
    const s = this.scale;
    const pad = s * 0.12;
    const { x, y, minX, minY } = this.seats;
    for (let i = 0; i < this.seats.count; i++) {
      const sx = x[i]! - minX;
      const sy = y[i]! - minY;
      if (sx < x0 || sx > x1 || sy < y0 || sy > y1) continue;
      ctx.beginPath();
      if (this.status[i] === TAKEN) {
        ctx.strokeStyle = TAKEN_COLOUR;
        ctx.lineWidth = Math.max(1, s * 0.1);
        ctx.roundRect(this.ox + sx * s + pad * 1.5, this.oy + sy * s + pad * 1.5, s - 3 * pad, s - 3 * pad, s * 0.2);
        ctx.stroke();
      } else {
        ctx.fillStyle = this.colour(i);
        ctx.roundRect(this.ox + sx * s + pad, this.oy + sy * s + pad, s - 2 * pad, s - 2 * pad, s * 0.2);
        ctx.fill();
      }
    }
  }

  private hit(clientX: number, clientY: number): number | undefined {
    const r = this.canvas.getBoundingClientRect();
    const wx = (clientX - r.left - this.ox) / this.scale + this.seats.minX - 0.5;
    const wy = (clientY - r.top - this.oy) / this.scale + this.seats.minY - 0.5;
    return this.hashed.get(this.key(wx, wy));
  }

  private down = (e: PointerEvent) => {
    this.canvas.setPointerCapture(e.pointerId);
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    this.moved = 0;
    this.pinch = 0;
  };

  private move = (e: PointerEvent) => {
    const prev = this.pointers.get(e.pointerId);
    if (!prev) return;
    const dx = e.clientX - prev.x;
    const dy = e.clientY - prev.y;
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    this.moved += Math.abs(dx) + Math.abs(dy);
    if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()] as [{ x: number; y: number }, { x: number; y: number }];
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      const r = this.canvas.getBoundingClientRect();
      if (this.pinch > 0) this.zoom(d / this.pinch, (a.x + b.x) / 2 - r.left, (a.y + b.y) / 2 - r.top);
      this.pinch = d;
    } else {
      this.pan(dx, dy);
    }
  };

  private up = (e: PointerEvent) => {
    const had = this.pointers.delete(e.pointerId);
    if (had && e.type === 'pointerup' && this.moved < 6 && this.pointers.size === 0) {
      const i = this.hit(e.clientX, e.clientY);
      if (i !== undefined) this.options.onSeatClick(i);
    }
  };

  private wheel = (e: WheelEvent) => {
    e.preventDefault();
    const r = this.canvas.getBoundingClientRect();
    this.zoom(Math.exp(-e.deltaY * 0.002), e.clientX - r.left, e.clientY - r.top);
  };

  private key_ = (e: KeyboardEvent) => {
    const step = 60;
    const moves: Record<string, () => void> = {
      ArrowLeft: () => this.pan(step, 0),
      ArrowRight: () => this.pan(-step, 0),
      ArrowUp: () => this.pan(0, step),
      ArrowDown: () => this.pan(0, -step),
      '+': () => this.zoom(1.25),
      '=': () => this.zoom(1.25),
      '-': () => this.zoom(0.8),
      '0': () => this.fit(),
    };
    const fn = moves[e.key];
    if (fn) {
      e.preventDefault();
      fn();
    }
  };
}

/** Decodes the availability bitmap (bit i, LSB of byte 0 first, is 1 when seat i is taken). */
export function decodeBitmap(base64: string, count: number): Uint8Array {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = ((bytes[i >> 3] ?? 0) >> (i & 7)) & 1;
  return out;
}

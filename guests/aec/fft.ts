// Mixed-radix FFT (radices 4, 2, 3, 5), self-sorting Stockham form, and a real
// FFT of size 2n on top of a complex FFT of size n. 960 = 2^6·3·5 and
// 480 = 2^5·3·5 are not powers of two, and padding the 480-sample echo
// canceller block to 512 would add latency, so the sizes are the frame's own.
//
// Layout: complex data interleaved (re, im) in f32; a real spectrum of size N
// is N/2 + 1 bins, bin k at [2k, 2k+1]. forward() is unscaled; inverse() scales
// by 1/N, so inverse(forward(x)) = x. Everything is allocated in the
// constructor: a plan is built once, when the guest is configured.

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}
export function ptr(a: StaticArray<f32>): usize {
  return changetype<usize>(a);
}

const EMPTY = new StaticArray<f32>(0);
const HALF: f32 = 0.5;
const C3: f32 = -0.5;
const S3: f32 = 0.8660254037844386;
const C51: f32 = 0.30901699437494745;
const C52: f32 = -0.8090169943749475;
const S51: f32 = 0.9510565162951535;
const S52: f32 = 0.5877852522924731;

/** Complex FFT of size n (a product of 2, 3, 4, 5). */
export class ComplexFft {
  n: i32;
  radices: StaticArray<i32>;
  stages: i32;
  /** Per stage, twiddles w^(r·jm) for jm < Ns, r in 1..R-1 (interleaved). */
  tw: StaticArray<f32> = EMPTY;
  twAt: StaticArray<i32>;
  a: StaticArray<f32> = EMPTY;
  b: StaticArray<f32> = EMPTY;

  constructor(n: i32) {
    this.n = n;
    const rs = new StaticArray<i32>(32);
    let m = n;
    let k = 0;
    while (m % 4 == 0) { rs[k++] = 4; m /= 4; }
    while (m % 2 == 0) { rs[k++] = 2; m /= 2; }
    while (m % 3 == 0) { rs[k++] = 3; m /= 3; }
    while (m % 5 == 0) { rs[k++] = 5; m /= 5; }
    assert(m == 1, "fft size must be a product of 2, 3, 5");
    this.radices = rs;
    this.stages = k;
    this.twAt = new StaticArray<i32>(k + 1);
    let total = 0;
    let ns = 1;
    for (let s = 0; s < k; s++) {
      this.twAt[s] = total;
      total += ns * (rs[s] - 1) * 2;
      ns *= rs[s];
    }
    this.tw = new StaticArray<f32>(total > 0 ? total : 2);
    ns = 1;
    for (let s = 0; s < k; s++) {
      const r = rs[s];
      let at = this.twAt[s];
      for (let jm = 0; jm < ns; jm++) {
        for (let q = 1; q < r; q++) {
          const ang = (-2.0 * Math.PI * <f64>(jm * q)) / <f64>(ns * r);
          this.tw[at++] = <f32>Math.cos(ang);
          this.tw[at++] = <f32>Math.sin(ang);
        }
      }
      ns *= r;
    }
    this.a = new StaticArray<f32>(2 * n);
    this.b = new StaticArray<f32>(2 * n);
  }

  /** Forward transform of this.a in place (the result is in this.a). */
  run(): void {
    const n = this.n;
    let src = ptr(this.a);
    let dst = ptr(this.b);
    let ns = 1;
    for (let s = 0; s < this.stages; s++) {
      const r = unchecked(this.radices[s]);
      const stride = n / r;
      const tw = ptr(this.tw) + (<usize>unchecked(this.twAt[s]) << 2);
      const groups = stride / ns;
      if (ns == 1) {
        // First stage: every twiddle is 1.
        for (let j = 0; j < stride; j++) {
          const d = j * r;
          if (r == 4) radix4(src, dst, j, stride, d, 1, tw, true);
          else if (r == 2) radix2(src, dst, j, stride, d, 1, tw, true);
          else if (r == 3) radix3(src, dst, j, stride, d, 1, tw, true);
          else radix5(src, dst, j, stride, d, 1, tw, true);
        }
      } else if (r == 4) {
        for (let g = 0; g < groups; g++) for (let jm = 0; jm < ns; jm++) radix4(src, dst, g * ns + jm, stride, g * ns * 4 + jm, ns, tw + (<usize>(jm * 6) << 2), false);
      } else if (r == 2) {
        for (let g = 0; g < groups; g++) for (let jm = 0; jm < ns; jm++) radix2(src, dst, g * ns + jm, stride, g * ns * 2 + jm, ns, tw + (<usize>(jm * 2) << 2), false);
      } else if (r == 3) {
        for (let g = 0; g < groups; g++) for (let jm = 0; jm < ns; jm++) radix3(src, dst, g * ns + jm, stride, g * ns * 3 + jm, ns, tw + (<usize>(jm * 4) << 2), false);
      } else {
        for (let g = 0; g < groups; g++) for (let jm = 0; jm < ns; jm++) radix5(src, dst, g * ns + jm, stride, g * ns * 5 + jm, ns, tw + (<usize>(jm * 8) << 2), false);
      }
      const x = src;
      src = dst;
      dst = x;
      ns *= r;
    }
    if (src != ptr(this.a)) memory.copy(ptr(this.a), src, <usize>(n * 8));
  }
}

// Each kernel: load the R inputs src[j + q·stride], multiply by the twiddles
// t[q-1] (none in the first stage, where they are all 1), an R-point DFT,
// store at dst[d + q·ns]. Inlined into run(): a call per butterfly cost more
// than the butterfly.
// @ts-ignore: decorator
@inline function twr(src: usize, i: i32, t: usize, q: i32, first: bool): f32 {
  const xr = ld(src, 2 * i);
  if (first) return xr;
  return xr * ld(t, 2 * (q - 1)) - ld(src, 2 * i + 1) * ld(t, 2 * (q - 1) + 1);
}
// @ts-ignore: decorator
@inline function twi(src: usize, i: i32, t: usize, q: i32, first: bool): f32 {
  const xi = ld(src, 2 * i + 1);
  if (first) return xi;
  return ld(src, 2 * i) * ld(t, 2 * (q - 1) + 1) + xi * ld(t, 2 * (q - 1));
}

// @ts-ignore: decorator
@inline function radix2(src: usize, dst: usize, j: i32, stride: i32, d: i32, ns: i32, t: usize, first: bool): void {
  const a0r = ld(src, 2 * j), a0i = ld(src, 2 * j + 1);
  const a1r = twr(src, j + stride, t, 1, first), a1i = twi(src, j + stride, t, 1, first);
  st(dst, 2 * d, a0r + a1r);
  st(dst, 2 * d + 1, a0i + a1i);
  st(dst, 2 * (d + ns), a0r - a1r);
  st(dst, 2 * (d + ns) + 1, a0i - a1i);
}

// @ts-ignore: decorator
@inline function radix4(src: usize, dst: usize, j: i32, stride: i32, d: i32, ns: i32, t: usize, first: bool): void {
  const a0r = ld(src, 2 * j), a0i = ld(src, 2 * j + 1);
  const a1r = twr(src, j + stride, t, 1, first), a1i = twi(src, j + stride, t, 1, first);
  const a2r = twr(src, j + 2 * stride, t, 2, first), a2i = twi(src, j + 2 * stride, t, 2, first);
  const a3r = twr(src, j + 3 * stride, t, 3, first), a3i = twi(src, j + 3 * stride, t, 3, first);
  const s02r = a0r + a2r, s02i = a0i + a2i, d02r = a0r - a2r, d02i = a0i - a2i;
  const s13r = a1r + a3r, s13i = a1i + a3i, d13r = a1r - a3r, d13i = a1i - a3i;
  st(dst, 2 * d, s02r + s13r);
  st(dst, 2 * d + 1, s02i + s13i);
  // y1 = d02 - i·d13, y3 = d02 + i·d13
  st(dst, 2 * (d + ns), d02r + d13i);
  st(dst, 2 * (d + ns) + 1, d02i - d13r);
  st(dst, 2 * (d + 2 * ns), s02r - s13r);
  st(dst, 2 * (d + 2 * ns) + 1, s02i - s13i);
  st(dst, 2 * (d + 3 * ns), d02r - d13i);
  st(dst, 2 * (d + 3 * ns) + 1, d02i + d13r);
}

// @ts-ignore: decorator
@inline function radix3(src: usize, dst: usize, j: i32, stride: i32, d: i32, ns: i32, t: usize, first: bool): void {
  const a0r = ld(src, 2 * j), a0i = ld(src, 2 * j + 1);
  const a1r = twr(src, j + stride, t, 1, first), a1i = twi(src, j + stride, t, 1, first);
  const a2r = twr(src, j + 2 * stride, t, 2, first), a2i = twi(src, j + 2 * stride, t, 2, first);
  const t1r = a1r + a2r, t1i = a1i + a2i;
  const mr = a0r + C3 * t1r, mi = a0i + C3 * t1i;
  const dr = S3 * (a1r - a2r), di = S3 * (a1i - a2i);
  st(dst, 2 * d, a0r + t1r);
  st(dst, 2 * d + 1, a0i + t1i);
  st(dst, 2 * (d + ns), mr + di);
  st(dst, 2 * (d + ns) + 1, mi - dr);
  st(dst, 2 * (d + 2 * ns), mr - di);
  st(dst, 2 * (d + 2 * ns) + 1, mi + dr);
}

// @ts-ignore: decorator
@inline function radix5(src: usize, dst: usize, j: i32, stride: i32, d: i32, ns: i32, t: usize, first: bool): void {
  const a0r = ld(src, 2 * j), a0i = ld(src, 2 * j + 1);
  const a1r = twr(src, j + stride, t, 1, first), a1i = twi(src, j + stride, t, 1, first);
  const a2r = twr(src, j + 2 * stride, t, 2, first), a2i = twi(src, j + 2 * stride, t, 2, first);
  const a3r = twr(src, j + 3 * stride, t, 3, first), a3i = twi(src, j + 3 * stride, t, 3, first);
  const a4r = twr(src, j + 4 * stride, t, 4, first), a4i = twi(src, j + 4 * stride, t, 4, first);
  const b1r = a1r + a4r, b1i = a1i + a4i;
  const b2r = a2r + a3r, b2i = a2i + a3i;
  const d1r = a1r - a4r, d1i = a1i - a4i;
  const d2r = a2r - a3r, d2i = a2i - a3i;
  const m1r = a0r + C51 * b1r + C52 * b2r, m1i = a0i + C51 * b1i + C52 * b2i;
  const m2r = a0r + C52 * b1r + C51 * b2r, m2i = a0i + C52 * b1i + C51 * b2i;
  const n1r = S51 * d1r + S52 * d2r, n1i = S51 * d1i + S52 * d2i;
  const n2r = S52 * d1r - S51 * d2r, n2i = S52 * d1i - S51 * d2i;
  st(dst, 2 * d, a0r + b1r + b2r);
  st(dst, 2 * d + 1, a0i + b1i + b2i);
  // y1 = m1 - i·n1, y4 = m1 + i·n1; y2 = m2 - i·n2, y3 = m2 + i·n2
  st(dst, 2 * (d + ns), m1r + n1i);
  st(dst, 2 * (d + ns) + 1, m1i - n1r);
  st(dst, 2 * (d + 4 * ns), m1r - n1i);
  st(dst, 2 * (d + 4 * ns) + 1, m1i + n1r);
  st(dst, 2 * (d + 2 * ns), m2r + n2i);
  st(dst, 2 * (d + 2 * ns) + 1, m2i - n2r);
  st(dst, 2 * (d + 3 * ns), m2r - n2i);
  st(dst, 2 * (d + 3 * ns) + 1, m2i + n2r);
}

/** Real FFT of size N = 2n through a complex FFT of size n. */
export class RealFft {
  size: i32;
  half: i32;
  c: ComplexFft;
  /** e^(-2πik/N), k in 0..n. */
  w: StaticArray<f32> = EMPTY;

  constructor(size: i32) {
    this.size = size;
    this.half = size >> 1;
    this.c = new ComplexFft(size >> 1);
    this.w = new StaticArray<f32>(2 * (this.half + 1));
    for (let k = 0; k <= this.half; k++) {
      const ang = (-2.0 * Math.PI * <f64>k) / <f64>size;
      this.w[2 * k] = <f32>Math.cos(ang);
      this.w[2 * k + 1] = <f32>Math.sin(ang);
    }
  }

  /** x: `size` reals at xp; X: half + 1 bins (interleaved) at outp. */
  forward(xp: usize, outp: usize): void {
    const n = this.half;
    const a = ptr(this.c.a);
    memory.copy(a, xp, <usize>(this.size << 2));
    this.c.run();
    const w = ptr(this.w);
    const z0r = ld(a, 0), z0i = ld(a, 1);
    st(outp, 0, z0r + z0i);
    st(outp, 1, 0);
    st(outp, 2 * n, z0r - z0i);
    st(outp, 2 * n + 1, 0);
    for (let k = 1; k < n; k++) {
      const zr = ld(a, 2 * k), zi = ld(a, 2 * k + 1);
      const cr = ld(a, 2 * (n - k)), ci = -ld(a, 2 * (n - k) + 1);
      const er = HALF * (zr + cr), ei = HALF * (zi + ci);
      // O = (Z - conj Z[n-k]) / (2i)
      const dr = HALF * (zr - cr), di = HALF * (zi - ci);
      const or = di, oi = -dr;
      const wr = ld(w, 2 * k), wi = ld(w, 2 * k + 1);
      st(outp, 2 * k, er + (or * wr - oi * wi));
      st(outp, 2 * k + 1, ei + (or * wi + oi * wr));
    }
  }

  /** X: half + 1 bins at inp; x: `size` reals at xp (scaled by 1/size). */
  inverse(inp: usize, xp: usize): void {
    const n = this.half;
    const a = ptr(this.c.a);
    const w = ptr(this.w);
    const scale: f32 = 1.0 / <f32>this.size;
    for (let k = 0; k < n; k++) {
      const xr = ld(inp, 2 * k), xi = ld(inp, 2 * k + 1);
      const cr = ld(inp, 2 * (n - k)), ci = -ld(inp, 2 * (n - k) + 1);
      const er = xr + cr, ei = xi + ci;
      const dr = xr - cr, di = xi - ci;
      // O = D · e^(+2πik/N) = D · conj(w)
      const wr = ld(w, 2 * k), wi = -ld(w, 2 * k + 1);
      const or = dr * wr - di * wi, oi = dr * wi + di * wr;
      // Z = E + iO, conjugated for a forward transform that inverts
      st(a, 2 * k, (er - oi) * scale);
      st(a, 2 * k + 1, -(ei + or) * scale);
    }
    this.c.run();
    for (let k = 0; k < n; k++) {
      st(xp, 2 * k, ld(a, 2 * k));
      st(xp, 2 * k + 1, -ld(a, 2 * k + 1));
    }
  }
}

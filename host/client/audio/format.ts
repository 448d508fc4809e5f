// The fixed audio numbers of the client (../shared/DESIGN.md, "Audio"): every
// part of the audio engine (devices, DSP chain, Opus, jitter buffers, mixer)
// works on these, so they are defined once, here.
export { SAMPLE_RATE, FRAME_SAMPLES } from '../../plugins/hooks.js';

/** One frame lasts exactly 20 ms. */
export const FRAME_MS = 20;
/** Capture is mono. */
export const CAPTURE_CHANNELS = 1;
/** Playback is stereo, interleaved L R L R ... */
export const PLAYBACK_CHANNELS = 2;
/** Samples per millisecond at 48 kHz. */
export const SAMPLES_PER_MS = 48;

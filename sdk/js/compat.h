/* Force-included into QuickJS's sources for wasm32-wasi: wasi-libc's fenv.h
 * has only round-to-nearest, and QuickJS names the directed rounding modes in
 * its number formatting. fesetround() then fails for them and rounding stays
 * to nearest: toFixed/toPrecision may differ from V8 in the last digit on
 * exact ties. */
#include <fenv.h>
#ifndef FE_DOWNWARD
#define FE_DOWNWARD 0x400
#endif
#ifndef FE_UPWARD
#define FE_UPWARD 0x800
#endif

using System.Runtime.CompilerServices;

// The data plane fills every buffer it reads before reading it; zeroing stackalloc'd batches
// per call would cost more than the work on a 64-byte packet.
[module: SkipLocalsInit]

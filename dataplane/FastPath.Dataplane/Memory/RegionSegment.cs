using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Memory;

/// <summary>One memfd-backed, page-aligned part of a <see cref="GuardedRegion"/>: where it sits, how long it is, how a view may access it.</summary>
/// <param name="File">The memfd, or null for a segment that the view does not map (<see cref="RegionAccess.None"/>).</param>
/// <param name="Offset">Byte offset from the region's first data byte; identical in every view.</param>
/// <param name="Length">Bytes, a multiple of the page size.</param>
/// <param name="Access">Protection of the segment in this view.</param>
internal readonly record struct RegionSegment(SafeFileHandle? File, nuint Offset, nuint Length, RegionAccess Access);

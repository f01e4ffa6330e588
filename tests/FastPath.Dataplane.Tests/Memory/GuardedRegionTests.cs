using FastPath.Dataplane.Memory;

namespace FastPath.Dataplane.Tests.Memory;

public sealed unsafe class GuardedRegionTests
{
    private static readonly nuint Page = GuardedRegion.PageSize;

    [Fact]
    public void Segments_are_rounded_to_pages_and_laid_out_back_to_back_with_their_own_memfd()
    {
        using var region = GuardedRegion.Create("fastpath-test", 1, Page + 1);
        Assert.Equal(3 * Page, region.Length);
        Assert.Equal(0u, (nuint)region.Pointer % Page);
        Assert.Equal(new RegionSegment(region.Segment(0).File, 0, Page, RegionAccess.ReadWrite), region.Segment(0));
        Assert.Equal(Page, region.Segment(1).Offset);
        Assert.Equal(2 * Page, region.Segment(1).Length);
        Assert.NotEqual(region.Segment(0).File!.DangerousGetHandle(), region.Segment(1).File!.DangerousGetHandle());
    }

    [Fact]
    public void Data_written_through_one_view_is_visible_in_the_other_at_the_same_offset()
    {
        using var region = GuardedRegion.Create("fastpath-test", Page, 2 * Page);
        using GuardedRegion view = region.MapView(RegionAccess.ReadWrite, RegionAccess.ReadWrite);
        Assert.NotEqual((nuint)region.Pointer, (nuint)view.Pointer);

        for (nuint offset = 0; offset < region.Length; offset += 512)
        {
            region.Pointer[offset] = (byte)(offset / 512);
        }

        for (nuint offset = 0; offset < region.Length; offset += 512)
        {
            Assert.Equal((byte)(offset / 512), view.Pointer[offset]);
        }

        view.Pointer[region.Length - 1] = 0xA5;
        Assert.Equal(0xA5, region.Pointer[region.Length - 1]);
    }

    [Fact]
    public void A_guest_view_keeps_no_memfd_for_the_segments_it_hides()
    {
        using var region = GuardedRegion.Create("fastpath-test", Page, Page);
        using GuardedRegion guest = region.MapView(RegionAccess.None, RegionAccess.ReadWrite);
        Assert.Null(guest.Segment(0).File);
        Assert.Equal(RegionAccess.None, guest.Segment(0).Access);
        Assert.NotNull(guest.Segment(1).File);
        Assert.Throws<InvalidOperationException>(() => guest.MapView(RegionAccess.ReadWrite, RegionAccess.ReadWrite));
    }

    [Fact]
    public void A_process_given_only_the_payload_memfd_sees_the_payload_at_its_offset()
    {
        // What a guest does with the memfd it receives over SCM_RIGHTS: the header segment is never mapped.
        using var region = GuardedRegion.Create("fastpath-test", Page, Page);
        RegionSegment payload = region.Segment(1);
        using GuardedRegion guest = GuardedRegion.Attach(region.Length, [payload]);
        region.Pointer[payload.Offset + 7] = 42;
        Assert.Equal(42, guest.Pointer[payload.Offset + 7]);
        guest.Pointer[payload.Offset + 8] = 43;
        Assert.Equal(43, region.Pointer[payload.Offset + 8]);
    }

    [Fact]
    public void A_read_only_view_sees_what_the_writable_view_wrote()
    {
        using var region = GuardedRegion.Create("fastpath-test", Page);
        using GuardedRegion view = region.MapView(RegionAccess.Read);
        region.Pointer[0] = 9;
        Assert.Equal(9, view.Pointer[0]);
        Assert.Equal(RegionAccess.Read, view.Segment(0).Access);
    }

    [Fact]
    public void Bad_layouts_are_refused_with_a_message_that_says_what()
    {
        Assert.Throws<ArgumentException>(() => GuardedRegion.Create("fastpath-test"));
        Assert.Contains("segment 1 is empty", Assert.Throws<ArgumentException>(() => GuardedRegion.Create("fastpath-test", 1, 0)).Message);

        using var region = GuardedRegion.Create("fastpath-test", Page);
        RegionSegment segment = region.Segment(0);
        Assert.Contains("one access per segment", Assert.Throws<ArgumentException>(() => region.MapView(RegionAccess.ReadWrite, RegionAccess.ReadWrite)).Message);
        Assert.Contains("not page-aligned", Assert.Throws<ArgumentException>(() => GuardedRegion.Attach(2 * Page, [segment with { Offset = 1 }])).Message);
        Assert.Contains("leaves the", Assert.Throws<ArgumentException>(() => GuardedRegion.Attach(Page, [segment with { Offset = Page }])).Message);
        Assert.Contains("its memfd holds 4096", Assert.Throws<ArgumentException>(() => GuardedRegion.Attach(2 * Page, [segment with { Length = 2 * Page }])).Message);
    }
}

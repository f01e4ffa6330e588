using System.Globalization;
using FastPath.Dataplane.Memory;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Memory;

/// <summary>
/// Runs FastPath.Dataplane.Probe as a child process: it builds a frame pool, maps the guest view and
/// touches one byte. Faults must kill the child with SIGSEGV (status 128 + 11) and leave this host alone.
/// </summary>
public sealed unsafe class GuardPageTests
{
    private const int KilledBySigsegv = 128 + 11;

    [Theory]
    [InlineData("last-byte", 0)]
    [InlineData("past-end", KilledBySigsegv)]
    [InlineData("before-start", KilledBySigsegv)]
    public void The_data_plane_view_faults_one_byte_outside_the_region_and_not_inside(string access, int expectedStatus) =>
        _ = AssertProbe(access, expectedStatus);

    [Theory]
    [InlineData("guest-payload", 0)]
    [InlineData("guest-header", KilledBySigsegv)]
    [InlineData("guest-past-end", KilledBySigsegv)]
    public void The_guest_view_reaches_payload_pages_and_faults_on_header_pages(string access, int expectedStatus) =>
        _ = AssertProbe(access, expectedStatus);

    [Fact]
    public void A_guest_process_holding_only_the_payload_memfd_shares_payload_bytes_and_faults_on_header_offsets()
    {
        using var pool = new FramePool(64);
        RegionSegment payload = pool.Region.Segment(1);
        Assert.Equal(RegionAccess.ReadWrite, payload.Access);

        // The child opens the payload memfd through /proc (as SCM_RIGHTS would hand it over) and maps it at its offset.
        string memfd = $"/proc/{Environment.ProcessId}/fd/{payload.File!.DangerousGetHandle()}";
        string Arg(nuint value) => value.ToString(CultureInfo.InvariantCulture);
        string[] Args(string access, nuint touch) =>
            [access, memfd, Arg(pool.Region.Length), Arg(payload.Offset), Arg(payload.Length), Arg(touch)];

        nuint payloadByte = pool.PayloadOffset(3) + 5;
        pool.Region.Pointer[payloadByte] = 0x41;
        ProcessResult reached = AssertProbe(Args("process-payload", payloadByte), 0);
        Assert.EndsWith("65\n", reached.StandardOutput);
        Assert.Equal(0x42, pool.Region.Pointer[payloadByte]); // The child's increment landed in our pages.

        pool.Header(0)[0] = 0x99;
        AssertProbe(Args("process-header", pool.HeaderOffset(0)), KilledBySigsegv);
        Assert.Equal(0x99, pool.Header(0)[0]);
    }

    private static ProcessResult AssertProbe(string access, int expectedStatus) => AssertProbe([access], expectedStatus);

    private static ProcessResult AssertProbe(string[] arguments, int expectedStatus)
    {
        string access = arguments[0];
        string probe = Path.Combine(AppContext.BaseDirectory, "FastPath.Dataplane.Probe");
        ProcessResult result = ProcessRunner.Run(probe, arguments, TimeSpan.FromSeconds(60));

        // The probe prints before it touches: a fault that came earlier (in setup) would show no such line.
        Assert.StartsWith("touching offset ", result.StandardOutput);
        Assert.True(result.ExitCode == expectedStatus, $"{access}: expected status {expectedStatus}, got {result.ExitCode}\n{result.StandardOutput}\n{result.StandardError}");
        if (expectedStatus == 0)
        {
            Assert.Equal("", result.StandardError);
        }

        return result;
    }
}

using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Memory;

/// <summary>
/// Runs FastPath.Dataplane.Probe as a child process: it builds a frame pool, maps the guest view and
/// touches one byte. Faults must kill the child with SIGSEGV (status 128 + 11) and leave this host alone.
/// </summary>
public sealed class GuardPageTests
{
    private const int KilledBySigsegv = 128 + 11;

    [Theory]
    [InlineData("last-byte", 0)]
    [InlineData("past-end", KilledBySigsegv)]
    [InlineData("before-start", KilledBySigsegv)]
    public void The_data_plane_view_faults_one_byte_outside_the_region_and_not_inside(string access, int expectedStatus) =>
        AssertProbe(access, expectedStatus);

    [Theory]
    [InlineData("guest-payload", 0)]
    [InlineData("guest-header", KilledBySigsegv)]
    [InlineData("guest-past-end", KilledBySigsegv)]
    public void The_guest_view_reaches_payload_pages_and_faults_on_header_pages(string access, int expectedStatus) =>
        AssertProbe(access, expectedStatus);

    private static void AssertProbe(string access, int expectedStatus)
    {
        string probe = Path.Combine(AppContext.BaseDirectory, "FastPath.Dataplane.Probe");
        ProcessResult result = ProcessRunner.Run(probe, [access], TimeSpan.FromSeconds(60));

        // The probe prints before it touches: a fault that came earlier (in setup) would show no such line.
        Assert.StartsWith("touching offset ", result.StandardOutput);
        Assert.True(result.ExitCode == expectedStatus, $"{access}: expected status {expectedStatus}, got {result.ExitCode}\n{result.StandardOutput}\n{result.StandardError}");
        if (expectedStatus == 0)
        {
            Assert.Equal("", result.StandardError);
        }
    }
}

using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Packaging;

/// <summary>
/// <c>dotnet pack</c> makes FastPath.Dataplane and FastPath.Vtpm packages (README, version from Directory.Build.props,
/// SourceLink commit, symbols), and samples/Appliance — which references FastPath.Dataplane as a package from a local
/// feed made here, never the project — builds, runs real frames through the real pipeline with its own in-memory port,
/// and what it sent is read back by tshark: translated addresses, no VLAN tag, valid IPv4 and UDP checksums.
/// </summary>
[Collection(Daemon.DaemonCollection.Name)]
public sealed partial class NuGetPackageTests : IDisposable
{
    private static readonly TimeSpan s_build = TimeSpan.FromMinutes(10);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_libraries_pack_and_the_appliance_sample_runs_on_the_package()
    {
        string root = FastpathProcess.RepositoryRoot;
        string feed = _dir.File("feed");
        string version = VersionPattern().Match(File.ReadAllText(Path.Combine(root, "Directory.Build.props"))).Groups[1].Value;
        Assert.NotEqual(string.Empty, version);
        string commit = ProcessRunner.Run("git", ["-C", root, "rev-parse", "HEAD"]).EnsureSuccess().StandardOutput.Trim();

        foreach (string project in new[] { "dataplane/FastPath.Dataplane", "control/FastPath.Vtpm" })
        {
            ProcessResult pack = ProcessRunner.Run("dotnet", ["pack", Path.Combine(root, project), "-c", "Release", "-o", feed, "-nologo"], timeout: s_build);
            Assert.True(pack.ExitCode == 0, pack.StandardOutput + pack.StandardError);
            Assert.DoesNotMatch(@"warning [A-Z]+\d+", pack.StandardOutput);
        }

        foreach (string id in new[] { "FastPath.Dataplane", "FastPath.Vtpm" })
        {
            string package = Path.Combine(feed, $"{id}.{version}.nupkg");
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.snupkg")), "no symbol package for " + id);
            using ZipArchive zip = ZipFile.OpenRead(package);
            Assert.Contains(zip.Entries, e => e.FullName == $"lib/net10.0/{id}.dll");
            Assert.Contains(zip.Entries, e => e.FullName == "README.md");
            using (var licenseText = new StreamReader(zip.GetEntry("LICENSE")!.Open()))
            {
                Assert.Equal(File.ReadAllText(Path.Combine(root, "LICENSE")), licenseText.ReadToEnd());
            }

            using Stream nuspecStream = zip.GetEntry($"{id}.nuspec")!.Open();
            XElement metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string Field(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
            Assert.Equal(id, Field("id"));
            Assert.Equal(version, Field("version"));
            Assert.Equal("README.md", Field("readme"));
            XElement license = metadata.Elements().Single(e => e.Name.LocalName == "license");
            Assert.Equal(("file", "LICENSE"), (license.Attribute("type")?.Value, license.Value));
            Assert.False(string.IsNullOrWhiteSpace(Field("description")));
            XElement repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
            Assert.Equal(commit, repository.Attribute("commit")?.Value); // SourceLink: the exact sources
        }

        // The sample restores from the feed into a private package folder: a FastPath.Dataplane cached by an earlier
        // run cannot stand in for the one packed here.
        string sample = Path.Combine(root, "samples", "Appliance");
        string bin = _dir.File("appliance");
        ProcessResult build = ProcessRunner.Run("dotnet",
            ["build", sample, "-c", "Release", "-nologo", "-o", bin, "-p:RestoreAdditionalProjectSources=" + feed,
             "-p:RestorePackagesPath=" + _dir.File("packages")],
            timeout: s_build);
        Assert.True(build.ExitCode == 0, build.StandardOutput + build.StandardError);
        Assert.True(File.Exists(Path.Combine(_dir.File("packages"), "fastpath.dataplane", version, $"fastpath.dataplane.{version}.nupkg")),
            "the sample did not restore FastPath.Dataplane from the local feed");
        Assert.False(File.Exists(Path.Combine(bin, "FastPath.Control.dll")), "the sample must reference the data plane package only");

        string capture = _dir.File("sent.pcapng");
        ProcessResult run = ProcessRunner.Run(Path.Combine(bin, "Appliance"), ["--packets", "500", "--out", capture]);
        Assert.True(run.ExitCode == 0, run.StandardOutput + run.StandardError);
        Assert.Contains("translated 500/500", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("no-mapping=1", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("port s0 secure rx_packets=0 tx_packets=500", run.StandardOutput, StringComparison.Ordinal);

        IReadOnlyList<string[]> rows = Tshark.Fields(capture, ["ip.src", "ip.dst", "vlan.id", "ip.checksum.status", "udp.checksum.status", "ip.ttl"],
            ["ip.check_checksum:TRUE", "udp.check_checksum:TRUE"]);
        Assert.Equal(500, rows.Count);
        // Checksum status 1 = good; TTL 64 decremented once.
        Assert.All(rows, r => Assert.Equal(["198.18.0.5", "198.18.0.6", string.Empty, "1", "1", "63"], r));
    }

    [GeneratedRegex("<Version>([^<]+)</Version>")]
    private static partial Regex VersionPattern();
}

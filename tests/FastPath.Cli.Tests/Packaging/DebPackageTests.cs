using System.Globalization;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Packaging;

/// <summary>
/// <c>packaging/deb/build-deb.sh</c> over the NativeAOT publish makes <c>fastpath_VERSION_amd64.deb</c>: its control
/// fields, exact contents and modes, the conffile, the unit identical to <c>packaging/fastpath.service</c>. Installed
/// with <c>dpkg --root</c> into a scratch root (its maintainer scripts run, chrootless, with DPKG_ROOT): the installed
/// binary answers <c>--version</c> and <c>--help</c>, <c>run --check</c> accepts the shipped configuration (no ports: a
/// daemon without a data path, which the installed binary then runs until SIGTERM) and the shipped example with this machine's interface and
/// the scratch root's paths (exit 0). Purged, it removes exactly its own files: the operator's maps file and the vTPM
/// state in the same folders stay, byte for byte.
/// </summary>
[Collection(Daemon.DaemonCollection.Name)]
public sealed class DebPackageTests : IDisposable
{
    private static readonly string[] s_contents =
    [
        "-rw-r--r-- root/root ./etc/fastpath/fastpath.json",
        "-rw-r--r-- root/root ./lib/systemd/system/fastpath.service",
        "-rw-r--r-- root/root ./usr/share/doc/fastpath/changelog.gz",
        "-rw-r--r-- root/root ./usr/share/doc/fastpath/copyright",
        "-rw-r--r-- root/root ./usr/share/doc/fastpath/examples/fastpath.json",
        "-rw-r--r-- root/root ./usr/share/man/man1/fastpath.1.gz",
        "-rwxr-xr-x root/root ./usr/bin/fastpath",
    ];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_deb_installs_in_a_scratch_root_runs_from_there_and_removes_only_its_own_files()
    {
        ProcessResult publish = NativeAotPublish.Result;
        Assert.True(publish.ExitCode == 0, publish.StandardOutput + publish.StandardError);
        string repository = FastpathProcess.RepositoryRoot;
        string version = ProcessRunner.Run(Path.Combine(NativeAotPublish.Folder, "fastpath"), "--version").EnsureSuccess().StandardOutput.Trim().Split('+')[0];

        // Whoever ships the appliance is the maintainer (DEBFULLNAME/DEBEMAIL, as dch reads them).
        var maintainer = new Dictionary<string, string> { ["DEBFULLNAME"] = "Appliance Team", ["DEBEMAIL"] = "appliance@example.net" };
        ProcessResult build = ProcessRunner.Run(Path.Combine(repository, "packaging", "deb", "build-deb.sh"), [NativeAotPublish.Folder, _dir.File("out")], TimeSpan.FromMinutes(2), null, maintainer);
        Assert.True(build.ExitCode == 0, build.StandardError);
        string deb = build.StandardOutput.Trim();
        Assert.Equal(_dir.File($"out/fastpath_{version}_amd64.deb"), deb);
        Assert.NotEqual(0, ProcessRunner.Run(Path.Combine(repository, "packaging", "deb", "build-deb.sh"), NativeAotPublish.Folder, _dir.File("out")).ExitCode); // never overwritten

        Assert.Equal("fastpath", Field(deb, "Package"));
        Assert.Equal(version, Field(deb, "Version"));
        Assert.Equal("amd64", Field(deb, "Architecture"));
        Assert.Contains("libtpms0", Field(deb, "Depends"), StringComparison.Ordinal);
        Assert.Equal("Appliance Team <appliance@example.net>", Field(deb, "Maintainer"));

        // Debian's own package checker finds nothing to say: no error, no warning (native binary linked to the
        // system zlib, changelog, manual page from --help, deb-systemd-invoke in prerm).
        ProcessResult lintian = ProcessRunner.Run("lintian", ["--tag-display-limit", "0", "--fail-on", "error,warning", deb], TimeSpan.FromMinutes(5));
        Assert.True(lintian.ExitCode == 0, lintian.StandardOutput + lintian.StandardError);
        Assert.Equal(s_contents, Contents(deb));

        string control = _dir.File("control");
        ProcessRunner.Run("dpkg-deb", "--control", deb, control).EnsureSuccess();
        Assert.Equal("/etc/fastpath/fastpath.json", File.ReadAllText(Path.Combine(control, "conffiles")).Trim());
        Assert.True(File.Exists(Path.Combine(control, "postinst")));

        // The scratch root: an empty dpkg database, and files the operator and the service made before the install.
        string root = _dir.File("root");
        Directory.CreateDirectory(Path.Combine(root, "var/lib/dpkg/info"));
        Directory.CreateDirectory(Path.Combine(root, "var/lib/dpkg/updates"));
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/status"), string.Empty);
        Directory.CreateDirectory(Path.Combine(root, "etc/fastpath"));
        Directory.CreateDirectory(Path.Combine(root, "var/lib/fastpath/vtpm"));
        Directory.CreateDirectory(Path.Combine(root, "run/fastpath"));
        const string Maps = """{ "mappings": [ { "tenant": 100, "user": "10.1.0.5", "secure": "198.18.0.5" } ] }""";
        File.WriteAllText(Path.Combine(root, "etc/fastpath/maps.json"), Maps);
        File.WriteAllText(Path.Combine(root, "var/lib/fastpath/vtpm/keep"), "vtpm state");

        ProcessResult install = Dpkg(root, "--force-depends", "--install", deb);
        Assert.True(install.ExitCode == 0, install.StandardOutput + install.StandardError);
        Assert.Contains("Setting up fastpath", install.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(repository, "packaging", "fastpath.service")), File.ReadAllBytes(Path.Combine(root, "lib/systemd/system/fastpath.service")));

        string copyright = File.ReadAllText(Path.Combine(root, "usr/share/doc/fastpath/copyright"));
        Assert.Contains("License: proprietary\n Copyright (c) 2026 the FastPath developers. All rights reserved.\n .\n", copyright, StringComparison.Ordinal);

        string fastpath = Path.Combine(root, "usr/bin/fastpath");
        Assert.StartsWith(version + "+", ProcessRunner.Run(fastpath, "--version").EnsureSuccess().StandardOutput, StringComparison.Ordinal);
        string help = ProcessRunner.Run(fastpath, "--help").EnsureSuccess().StandardOutput;
        Assert.Contains("capture", help, StringComparison.Ordinal);
        Assert.Contains("run", help, StringComparison.Ordinal);

        // The shipped configuration has no ports: a daemon without a data path (control socket, maps, vTPM), so the
        // unit's ExecStartPre accepts it and the installed binary runs it until SIGTERM.
        string shipped = Path.Combine(root, "etc/fastpath/fastpath.json");
        string socket = "unix:" + Path.Combine(root, "run/fastpath/control.sock");
        ProcessResult empty = ProcessRunner.Run(fastpath, "run", "--config", shipped, "--check", "--control", socket);
        Assert.True(empty.ExitCode == 0, empty.StandardError);
        Assert.Equal($"fastpath: {shipped}: ok: 1 worker(s), 0 port(s) (no data path), 0 pair(s), 0 mapping(s), control {socket}", empty.StandardOutput.Trim());
        using (Daemon.DaemonProcess daemon = Daemon.DaemonProcess.Start(shipped, socket, executable: fastpath))
        {
            daemon.Cli("map", "add", "--tenant", "100", "--user", "10.1.0.6", "--secure", "198.18.0.6").EnsureSuccess();
            int code = daemon.Stop(TimeSpan.FromSeconds(30));
            Assert.True(code == 0, $"the installed fastpath exited {code}:\n{daemon.Log}");
            Assert.Contains("running: no ports", daemon.Log, StringComparison.Ordinal);
        }

        // The shipped example, on this machine: its interfaces become lo, its paths the scratch root's, pinning two
        // workers becomes two unpinned workers (CI machines may not have CPUs 2 and 3).
        string example = File.ReadAllText(Path.Combine(root, "usr/share/doc/fastpath/examples/fastpath.json"))
            .Replace("\"eth1\"", "\"lo\"", StringComparison.Ordinal)
            .Replace("\"eth2\"", "\"lo\"", StringComparison.Ordinal)
            .Replace("\"cores\": [2, 3]", "\"workers\": 2", StringComparison.Ordinal)
            .Replace("/run/fastpath", Path.Combine(root, "run/fastpath"), StringComparison.Ordinal)
            .Replace("/var/lib/fastpath", Path.Combine(root, "var/lib/fastpath"), StringComparison.Ordinal);
        string configured = Path.Combine(root, "etc/fastpath/appliance.json");
        File.WriteAllText(configured, example);
        ProcessResult check = ProcessRunner.Run(fastpath, "run", "--config", configured, "--check");
        Assert.True(check.ExitCode == 0, check.StandardError);
        Assert.Matches(@"^fastpath: .*appliance\.json: ok: 2 worker\(s\), 2 port\(s\), 1 pair\(s\), 1 mapping\(s\), control unix:", check.StandardOutput);
        File.Delete(configured);

        ProcessResult purge = Dpkg(root, "--purge", "fastpath");
        Assert.True(purge.ExitCode == 0, purge.StandardOutput + purge.StandardError);
        Assert.False(File.Exists(fastpath));
        Assert.False(File.Exists(shipped));
        Assert.False(Directory.Exists(Path.Combine(root, "usr/share/doc/fastpath")));
        Assert.Equal(Maps, File.ReadAllText(Path.Combine(root, "etc/fastpath/maps.json")));
        Assert.Equal("vtpm state", File.ReadAllText(Path.Combine(root, "var/lib/fastpath/vtpm/keep")));
    }

    private static ProcessResult Dpkg(string root, params string[] arguments) =>
        ProcessRunner.Run("dpkg", ["--root=" + root, "--force-script-chrootless", "--log=/dev/null", .. arguments], timeout: TimeSpan.FromMinutes(2));

    private static string Field(string deb, string name) => ProcessRunner.Run("dpkg-deb", "--field", deb, name).EnsureSuccess().StandardOutput.Trim();

    /// <summary>Regular files of the package as "mode owner/group path", sorted.</summary>
    private static string[] Contents(string deb) =>
    [
        .. ProcessRunner.Run("dpkg-deb", "--contents", deb).EnsureSuccess().StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts[0][0] == '-')
            .Select(parts => string.Create(CultureInfo.InvariantCulture, $"{parts[0]} {parts[1]} {parts[^1]}"))
            .Order(StringComparer.Ordinal),
    ];
}

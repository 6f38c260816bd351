using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>Where and on what a result was measured, so that a figure can be reproduced or discounted.</summary>
internal sealed record BenchEnvironment(string Date, string Commit, int Cores, string Cpu, string OperatingSystem, string Runtime)
{
    public static BenchEnvironment Capture() => new(
        DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
        GitCommit(),
        Environment.ProcessorCount,
        CpuModel(),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription);

    public string Describe() => $"{Date}, commit {Commit}, {Cores} cores ({Cpu}), {OperatingSystem}, {Runtime}";

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    /// <summary>The commit of the working tree the benchmark runs in, marked when it has uncommitted changes.</summary>
    private static string GitCommit()
    {
        var head = Git("rev-parse --short=12 HEAD");
        if (head is null)
        {
            return "unknown (not run from a git checkout)";
        }

        return string.IsNullOrEmpty(Git("status --porcelain --untracked-files=no")) ? head : head + " with uncommitted changes";
    }

    private static string? Git(string arguments)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (git is null)
            {
                return null;
            }

            var text = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? text : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

/// <summary>
/// The whole machine's busy share between two readings of /proc/stat, and of it the time the hypervisor gave to other
/// guests (steal, counted as busy); null where there is none.
/// </summary>
internal readonly record struct MachineCpu(long Busy, long Stolen, long Total)
{
    public static MachineCpu? Read()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
            var total = fields.Take(8).Sum();
            return new MachineCpu(total - idle, fields.Length > 7 ? fields[7] : 0, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    public static double? BusyPercent(MachineCpu? before, MachineCpu? after) =>
        before is { } b && after is { } a && a.Total > b.Total ? 100.0 * (a.Busy - b.Busy) / (a.Total - b.Total) : null;

    public static double? StolenPercent(MachineCpu? before, MachineCpu? after) =>
        before is { } b && after is { } a && a.Total > b.Total ? 100.0 * (a.Stolen - b.Stolen) / (a.Total - b.Total) : null;
}

using System.Globalization;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// A node process's wall clock moved by libfaketime (Debian's libfaketime, which .ci/run installs), preloaded into
/// the process: the real clock of the machine stays, and so do the monotonic clocks timers run on.
/// </summary>
internal static class FakeClock
{
    private static readonly string[] Libraries =
    [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1",
    ];

    /// <summary>The environment that starts a process with its wall clock <paramref name="offset"/> ahead.</summary>
    public static Dictionary<string, string> Ahead(TimeSpan offset)
    {
        var library = Libraries.FirstOrDefault(File.Exists)
            ?? throw new Xunit.Sdk.XunitException($"libfaketime is not installed (looked for {string.Join(", ", Libraries)}); on Debian: apt-get install libfaketime.");
        return new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = library,
            ["FAKETIME"] = string.Create(CultureInfo.InvariantCulture, $"+{offset.TotalSeconds:0.###}s"),
            ["FAKETIME_DONT_FAKE_MONOTONIC"] = "1",
        };
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Actor;
using IdOS.Akka.Engine.Cli;
using IdOS.Akka.Engine.Gateway;

namespace IdOS.Akka.Engine.Bench.Cluster;

internal enum FaultKind
{
    /// <summary>kill -9, and a restart from the validator's own data folder after the given time, if one is given.</summary>
    Kill,

    /// <summary>SIGSTOP, and SIGCONT after the given time: a validator that hangs, its connections open.</summary>
    Pause,

    /// <summary>
    /// Every link to and from the validator cut at the fault proxies (connections reset, new ones refused), healed
    /// after the given time: a validator that runs on but cannot reach anyone.
    /// </summary>
    Partition,
}

/// <summary>
/// One fault injected into the measured window: `kill:4@20s` kills validator 4 (of 1..n) 20 s into the window for
/// good, `kill:4@20s+15s` restarts it 15 s later, `pause:4@20s+10s` stops it for 10 s, `partition:4@20s+10s` cuts it
/// off from the others for 10 s (every validator then runs behind a TCP fault proxy).
/// </summary>
internal sealed partial record FaultPlan(FaultKind Kind, int Validator, int AtSeconds, int? ForSeconds)
{
    /// <summary>
    /// Throughput "during" is the first seconds after the fault, while the others still give the faulty validator
    /// rounds; "after" is from here on, where the targets apply.
    /// </summary>
    public const int SettleSeconds = 10;

    public static FaultPlan? Parse(string text, int validators, int durationSeconds)
    {
        if (text.Length == 0)
        {
            return null;
        }

        var match = Syntax().Match(text);
        if (!match.Success)
        {
            throw new UsageException($"--fault '{text}' is not kill:V@Ts, kill:V@Ts+Rs, pause:V@Ts+Ds or partition:V@Ts+Ds (e.g. kill:4@20s)");
        }

        var kind = match.Groups["kind"].Value switch
        {
            "kill" => FaultKind.Kill,
            "pause" => FaultKind.Pause,
            _ => FaultKind.Partition,
        };
        var validator = int.Parse(match.Groups["v"].Value, CultureInfo.InvariantCulture);
        var at = int.Parse(match.Groups["at"].Value, CultureInfo.InvariantCulture);
        int? span = match.Groups["for"].Success ? int.Parse(match.Groups["for"].Value, CultureInfo.InvariantCulture) : kind == FaultKind.Kill ? null : 10;
        if (validator < 1 || validator > validators)
        {
            throw new UsageException($"--fault names validator {validator}; the run has validators 1 to {validators}");
        }

        if (validators < 4)
        {
            throw new UsageException("--fault needs at least 4 validators: with fewer, one down stops the chain");
        }

        if (at < 1 || at + (span ?? 0) + SettleSeconds > durationSeconds)
        {
            throw new UsageException($"--fault at {at} s{(span is { } s ? $" for {s} s" : "")} leaves less than {SettleSeconds} s of the {durationSeconds} s window after it; give a longer --duration");
        }

        return new FaultPlan(kind, validator - 1, at, span);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Kind.ToString().ToLowerInvariant()}:{Validator + 1}@{AtSeconds}s{(ForSeconds is { } s ? $"+{s}s" : "")}");

    public string Describe() => Kind switch
    {
        FaultKind.Kill => $"kill -9 of validator {Validator + 1} at {AtSeconds} s{(ForSeconds is { } r ? $", restarted {r} s later" : ", not restarted")}",
        FaultKind.Pause => $"SIGSTOP of validator {Validator + 1} at {AtSeconds} s, SIGCONT {ForSeconds} s later",
        _ => $"validator {Validator + 1} cut off at its fault proxy at {AtSeconds} s, healed {ForSeconds} s later",
    };

    [GeneratedRegex(@"^(?<kind>kill|pause|partition):(?<v>[0-9]{1,2})@(?<at>[0-9]{1,4})s(\+(?<for>[0-9]{1,4})s)?$")]
    private static partial Regex Syntax();
}

/// <summary>
/// What a run with a fault did: committed commands per second before the fault, in its first
/// <see cref="FaultPlan.SettleSeconds"/> seconds and after those, and the latency of commands submitted in each of
/// those spans; and, for a validator restarted or resumed, the seconds until it was back at the height the others had
/// when it came back.
/// </summary>
internal sealed record FaultFigures(
    string Fault,
    double BeforePerSecond,
    double DuringPerSecond,
    double AfterPerSecond,
    LatencySummary Before,
    LatencySummary During,
    LatencySummary After,
    double? RecoverySeconds)
{
    public const string Header = """
        | fault | cmd/s before | first 10 s | after | after / before | p50 ms before | after | p99 ms before | after | after / before | back at the head |
        |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
        """;

    public string Row() => string.Create(CultureInfo.InvariantCulture,
        $"| {Fault} | {BeforePerSecond:0} | {DuringPerSecond:0} | {AfterPerSecond:0} | {Ratio(AfterPerSecond, BeforePerSecond)} | {Before.P50:0.0} | {After.P50:0.0} | " +
        $"{Before.P99:0.0} | {After.P99:0.0} | {Ratio(After.P99, Before.P99)} | {(RecoverySeconds is { } s ? $"{s:0.0} s" : "n/a")} |");

    private static string Ratio(double value, double baseline) =>
        baseline <= 0 ? "n/a" : (value / baseline).ToString("0.00", CultureInfo.InvariantCulture) + "×";
}

/// <summary>Polls a restarted or resumed validator until it has committed up to a height; the seconds that took.</summary>
internal sealed class FaultRecovery
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    private FaultRecovery(Task<double?> seconds) => Seconds = seconds;

    /// <summary>Null when it was not back within two minutes.</summary>
    public Task<double?> Seconds { get; }

    public static FaultRecovery Watch(NodeClient client, Address validator, long height) => new(Poll(client, validator, height));

    private static async Task<double?> Poll(NodeClient client, Address validator, long height)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (System.Diagnostics.Stopwatch.GetElapsedTime(started) < Limit)
        {
            try
            {
                if ((await client.Status(validator, TimeSpan.FromMilliseconds(500))).Height >= height)
                {
                    return System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
                }
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException)
            {
                // Still starting, or still catching up on its first blocks.
            }

            await Task.Delay(100);
        }

        return null;
    }
}

using System.Globalization;
using NSec.Cryptography;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>
/// How fast the machine computes at the time of a run, probed with the work that bounds consensus: ed25519
/// verifications (NSec, one 32-byte message) on every core at once, just before the validators start and again
/// after they stop. This VM's speed moves by up to half from one half hour to the next (docs/BENCHMARKS.md), so a
/// figure is comparable with one taken on another day only beside the speed the machine had then; the reference is
/// the same probe on the day libhotstuff's figures quoted in docs/BENCHMARKS.md were taken on this machine kind.
/// </summary>
internal sealed record MachineSpeed(int Threads, double VerificationsPerSecondBefore, double VerificationsPerSecondAfter)
{
    /// <summary>NSec ed25519 verifications/s on the 2-core machine's two threads, 2026-11-23.</summary>
    public const double ReferenceVerificationsPerSecond = 34_145;

    private const int ReferenceThreads = 2;

    /// <summary>The mean of the two probes over the reference: 1 is the speed libhotstuff's anchor figures were taken at.</summary>
    public double Index => (VerificationsPerSecondBefore + VerificationsPerSecondAfter) / 2 / ReferenceVerificationsPerSecond;

    public static double Probe(TimeSpan duration)
    {
        var algorithm = SignatureAlgorithm.Ed25519;
        using var key = Key.Create(algorithm);
        var message = new byte[32];
        var signature = algorithm.Sign(key, message);
        if (!algorithm.Verify(key.PublicKey, message, signature))
        {
            throw new InvalidOperationException("the speed probe's own ed25519 signature does not verify");
        }

        return EveryCore.RatePerSecond(duration, () => algorithm.Verify(key.PublicKey, message, signature));
    }

    public string Describe(double? stolenPercent)
    {
        var stolen = stolenPercent is { } percent
            ? string.Create(CultureInfo.InvariantCulture, $"; CPU time taken by the hypervisor for other guests during the window {percent:0.0}%")
            : "";
        var otherMachine = Threads == ReferenceThreads
            ? ""
            : $" (the reference ran on {ReferenceThreads} threads: on this machine the index compares machines, not one machine's phases)";
        return string.Create(CultureInfo.InvariantCulture,
            $"machine speed: {VerificationsPerSecondBefore:0} ed25519 verifications/s on {Threads} threads before the run, {VerificationsPerSecondAfter:0} after; {Index:0.00} × the {ReferenceVerificationsPerSecond:0}/s of 2026-11-23, when libhotstuff's anchor figures were taken{otherMachine}{stolen}");
    }
}

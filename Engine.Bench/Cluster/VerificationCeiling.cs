using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>
/// The machine's ceiling for the idOS workload, measured before the validators start: whole EIP-191 transaction
/// checks (decode, signed text, Keccak, secp256k1 recovery) per second on every core at once. Every validator and the
/// RPC system check every transaction, so with <c>n</c> validators the machine cannot commit more than the checks/s
/// divided by <c>n + 1</c>; the target the benchmark reports is half of that.
/// </summary>
internal sealed record VerificationCeiling(string Secp256k1Path, double ChecksPerSecond, int Checkers, double CeilingTransactionsPerSecond,
    double TargetTransactionsPerSecond)
{
    public static VerificationCeiling Measure(int validators, TimeSpan duration)
    {
        const string Chain = "ceiling";
        var recovery = Secp256k1.Recovery;
        var transaction = KwilSigner.ForEvm(EvmKey.Generate()).Execute(Chain, 1, "add_attribute",
            [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("bench-attribute"), KwilValue.OfText(Convert.ToBase64String(new byte[768]))]);
        if (!TransactionGate.Check(transaction, Chain, recovery).IsAdmitted)
        {
            throw new InvalidOperationException("the ceiling's own EIP-191 transaction does not pass the check");
        }

        var checks = EveryCore.RatePerSecond(duration, () => TransactionGate.Check(transaction, Chain, recovery));
        var ceiling = checks / (validators + 1);
        return new VerificationCeiling(recovery.Name, checks, Environment.ProcessorCount, ceiling, ceiling / 2);
    }

    public string Describe() => FormattableString.Invariant(
        $"verification ceiling: {ChecksPerSecond:0} EIP-191 checks/s on {Checkers} threads ({Secp256k1Path}); every transaction is checked by each validator and the RPC system, so at most {CeilingTransactionsPerSecond:0} tx/s; target (half): {TargetTransactionsPerSecond:0} tx/s");
}

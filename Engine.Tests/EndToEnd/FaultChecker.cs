using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>A write a client saw acknowledged: sync broadcast answered with result code 0.</summary>
internal sealed record AcknowledgedWrite(Hash32 Hash, string Client, ulong Nonce);

/// <summary>What the checker reads from one validator once the faults have healed and the nodes stopped.</summary>
internal sealed record ValidatorRecord(int Validator, TransactionResults Results, IReadOnlyList<Hash32> CommittedTransactions, long Height, Hash32? AppHashAtCommonHeight);

/// <summary>
/// The fault suite's judge: every acknowledged write is committed on every validator, at the same height and position
/// with the same result, and code 0; no transaction is committed twice on any validator; and the validators hold one
/// app hash at the height they all reached. Pure, so that its positive controls feed it records with a fault planted.
/// </summary>
internal static class FaultChecker
{
    public static List<string> Problems(IReadOnlyList<AcknowledgedWrite> acknowledged, IReadOnlyList<ValidatorRecord> validators)
    {
        var problems = new List<string>();
        for (var i = 0; i < acknowledged.Count; i++)
        {
            var write = acknowledged[i];
            TransactionOutcome? first = null;
            foreach (var record in validators)
            {
                var outcome = record.Results.Results[i];
                if (outcome is null)
                {
                    problems.Add($"{write.Client}'s write with nonce {write.Nonce} ({write.Hash.ToShortString()}) was acknowledged but validator {record.Validator} has not committed it (executed up to {record.Results.ExecutedHeight})");
                    continue;
                }

                if (outcome.Code != 0)
                {
                    problems.Add($"{write.Client}'s write with nonce {write.Nonce} was acknowledged with code 0 but validator {record.Validator} recorded code {outcome.Code}: {outcome.Log}");
                }

                first ??= outcome;
                if ((outcome.Height, outcome.Position, outcome.Code) != (first.Height, first.Position, first.Code))
                {
                    problems.Add($"{write.Client}'s write with nonce {write.Nonce} is at height {outcome.Height} position {outcome.Position} on validator {record.Validator} but at height {first.Height} position {first.Position} elsewhere");
                }
            }
        }

        foreach (var record in validators)
        {
            foreach (var twice in record.CommittedTransactions.GroupBy(h => h).Where(g => g.Count() > 1))
            {
                problems.Add($"validator {record.Validator} committed transaction {twice.Key.ToShortString()} {twice.Count()} times");
            }
        }

        var appHashes = validators.Select(v => v.AppHashAtCommonHeight).Distinct().ToList();
        if (appHashes.Count != 1 || appHashes[0] is null)
        {
            problems.Add("the validators hold different app hashes at the height they all reached: " +
                string.Join(", ", validators.Select(v => $"validator {v.Validator}: {v.AppHashAtCommonHeight?.ToShortString() ?? "none"}")));
        }

        return problems;
    }
}

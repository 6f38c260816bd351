using System.Security.Cryptography;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.JsonRpc;

namespace IdOS.Akka.Engine.Rpc.Services;

public enum ChallengeState
{
    Valid,
    Unknown,
    Expired,
}

/// <summary>
/// Private mode's proof of identity for reads: `user.challenge` hands out 32 random bytes,
/// good for one `user.call` within the expiry, and the call carries the sender's signature over a text naming the
/// action, a digest of the call and the challenge. Each read costs the wallet one signature, but no session lives on
/// the server.
/// </summary>
public sealed class ViewChallenges(TimeProvider clock, TimeSpan expiry)
{
    public const int Size = 32;
    private const int MaxOutstanding = 100_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _issued = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, RpcMethod> Methods => new Dictionary<string, RpcMethod>(StringComparer.Ordinal)
    {
        ["user.challenge"] = (_, _, _) => Task.FromResult<JsonNode>(new JsonObject { ["challenge"] = Convert.ToHexStringLower(Issue()) }),
    };

    public byte[] Issue()
    {
        var challenge = RandomNumberGenerator.GetBytes(Size);
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (_issued.Count >= MaxOutstanding)
            {
                foreach (var expired in _issued.Where(c => c.Value <= now).Select(c => c.Key).ToList())
                {
                    _issued.Remove(expired);
                }

                if (_issued.Count >= MaxOutstanding)
                {
                    throw new RpcException(RpcErrorCode.RateLimited, "too many challenges outstanding; try again shortly");
                }
            }

            _issued[Convert.ToHexStringLower(challenge)] = now.Add(expiry);
        }

        return challenge;
    }

    /// <summary>Uses the challenge up, whatever the answer: a challenge is good for one attempt.</summary>
    public ChallengeState Take(byte[] challenge)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        lock (_gate)
        {
            return !_issued.Remove(Convert.ToHexStringLower(challenge), out var expires) ? ChallengeState.Unknown
                : expires <= clock.GetUtcNow() ? ChallengeState.Expired
                : ChallengeState.Valid;
        }
    }

    /// <summary>The text a private-mode call is signed over: the digest is sha256 of the payload, first 20 bytes.</summary>
    public static string SignedText(ActionCall call, byte[] payload, byte[] challenge)
    {
        ArgumentNullException.ThrowIfNull(call);
        var digest = Convert.ToHexStringLower(SHA256.HashData(payload).AsSpan(0, 20));
        return $"Kwil view call.\n\nNamespace: {call.Namespace}\nMethod: {call.Action}\nDigest: {digest}\nChallenge: {Convert.ToHexStringLower(challenge)}\n";
    }
}

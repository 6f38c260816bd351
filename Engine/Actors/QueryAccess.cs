using Akka.Actor;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Which remote senders a query actor answers: those whose address proved, by a <see cref="MemberHello"/>, to be an RPC
/// member the operator listed. The identity a read names (a KGW session's or a signed private-mode call's sender) is
/// one such a member authenticated, and the validator trusts its listed members for that. On an insecure node nothing
/// can be proven, so everyone is answered. Senders in this process are always answered.
/// </summary>
public sealed class QueryAccess
{
    /// <summary>
    /// Proven addresses kept, the oldest forgotten first: a member that proves itself from many addresses only pushes
    /// out proofs, and a member whose proof was forgotten is refused once, greets again and is answered.
    /// </summary>
    public const int MaxProvenAddresses = 256;
    private static readonly long HelloMaxAgeMs = (long)TimeSpan.FromMinutes(2).TotalMilliseconds;

    private readonly IReadOnlyDictionary<TlsPin, string>? _members;
    private readonly Func<long> _clockMs;
    private readonly Dictionary<Address, string> _proven = [];
    private readonly Queue<Address> _order = new();

    private QueryAccess(IReadOnlyDictionary<TlsPin, string>? members, Func<long> clockMs)
    {
        _members = members;
        _clockMs = clockMs;
    }

    public static QueryAccess ForMembers(IReadOnlyDictionary<TlsPin, string> members, Func<long> clockMs) =>
        new(members ?? throw new ArgumentNullException(nameof(members)), clockMs);

    public static QueryAccess Open { get; } = new(null, () => 0);

    public long Refused { get; private set; }

    public bool Allows(IActorRef sender)
    {
        ArgumentNullException.ThrowIfNull(sender);
        if (_members is null || sender.Path.Address.HasLocalScope || _proven.ContainsKey(sender.Path.Address))
        {
            return true;
        }

        Refused++;
        return false;
    }

    /// <summary>Checks a hello against the listed members; the verdict says why one is refused.</summary>
    public Consensus.Verdict Prove(MemberHello hello, IActorRef sender, Address self)
    {
        ArgumentNullException.ThrowIfNull(hello);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(self);
        if (_members is null)
        {
            return Consensus.Verdict.Accept;
        }

        var from = sender.Path.Address;
        var verdict = hello.Check(_members, from.ToString(), self.ToString(), _clockMs(), HelloMaxAgeMs, out var member);
        if (verdict.IsAccepted && _proven.TryAdd(from, member!))
        {
            _order.Enqueue(from);
            if (_order.Count > MaxProvenAddresses)
            {
                _proven.Remove(_order.Dequeue());
            }
        }

        return verdict;
    }
}

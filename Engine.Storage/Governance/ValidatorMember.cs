using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace IdOS.Akka.Engine.Storage.Governance;

/// <summary>
/// One validator of a set: its ed25519 key and the TLS key pins it may connect with (lower-case hex), and the
/// consensus address it named when it joined (empty for a genesis validator, whose operators list it among their seeds).
/// </summary>
public sealed record ValidatorMember(string Key, IReadOnlyList<string> Pins, string Address)
{
    private const string None = "-";
    private static readonly SearchValues<char> HostNameChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
    private static readonly SearchValues<char> Ipv6Chars = SearchValues.Create("0123456789abcdefABCDEF:.");
    private static readonly byte[] SetDomain = "idos-akka/validator-set/v1"u8.ToArray();

    /// <summary>One line per member, in order: key, pins joined by commas, address; `-` stands for none.</summary>
    public static string Format(IEnumerable<ValidatorMember> members) =>
        string.Join('\n', members.Select(m => $"{m.Key} {(m.Pins.Count == 0 ? None : string.Join(',', m.Pins))} {(m.Address.Length == 0 ? None : m.Address)}"));

    /// <summary>The inverse of <see cref="Format"/>, for text this code wrote (it is part of the certified state).</summary>
    public static IReadOnlyList<ValidatorMember> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            return [];
        }

        return [.. text.Split('\n').Select(line =>
        {
            var parts = line.Split(' ');
            if (parts.Length != 3)
            {
                throw new FormatException($"A validator set line has key, pins and address: '{line}'.");
            }

            return new ValidatorMember(parts[0], parts[1] == None ? [] : parts[1].Split(','), parts[2] == None ? "" : parts[2]);
        })];
    }

    /// <summary>SHA-256 over the keys in validator-index order: what identifies a set, whatever its pins and addresses.</summary>
    public static string SetHash(IEnumerable<string> hexKeys)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(SetDomain);
        var keys = hexKeys.ToList();
        Span<byte> count = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(count, keys.Count);
        hash.AppendData(count);
        foreach (var key in keys)
        {
            hash.AppendData(Convert.FromHexString(key));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// Whether <paramref name="address"/> is `host:port` with a DNS name, an IPv4 address or a bracketed IPv6 address
    /// and a port from 1 to 65535: what a peer can dial, and nothing a set's text form could not hold.
    /// </summary>
    public static bool IsDialable(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return false;
        }

        var host = address.AsSpan(0, colon);
        if (host[0] == '[')
        {
            return host.Length > 2 && host[^1] == ']' && host[1..^1].IndexOfAnyExcept(Ipv6Chars) < 0;
        }

        return host.Length <= 253 && host.IndexOfAnyExcept(HostNameChars) < 0
            && host[0] != '-' && host[0] != '.';
    }
}

using System.Runtime.InteropServices;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Math.EC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace IdOS.Akka.Engine.Kwil.Auth;

/// <summary>Recovers the public key that made a secp256k1 ECDSA signature over a 32-byte digest.</summary>
public interface ISecp256k1Recovery
{
    string Name { get; }

    /// <summary>The 65-byte uncompressed public key (0x04 ‖ x ‖ y), or null when no key recovers from these values.</summary>
    byte[]? Recover(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> rs, int recoveryId);
}

public static class Secp256k1
{
    /// <summary>The group order n.</summary>
    public static readonly BcBigInteger Order = SecNamedCurves.GetByName("secp256k1").N;

    /// <summary>Signatures with s above n/2 are the malleated twin of a valid one; Ethereum (EIP-2) refuses them.</summary>
    public static readonly BcBigInteger HalfOrder = Order.ShiftRight(1);

    private static readonly Lazy<ISecp256k1Recovery> Best = new(() => LibSecp256k1Recovery.TryCreate() ?? (ISecp256k1Recovery)new BouncyCastleRecovery());

    /// <summary>libsecp256k1 when the system has it (Debian: libsecp256k1-1), BouncyCastle otherwise.</summary>
    public static ISecp256k1Recovery Recovery => Best.Value;
}

/// <summary>
/// Bitcoin Core's libsecp256k1 (with its recovery module) through P/Invoke: about ten times BouncyCastle's speed.
/// One context, created for verification, is safe to share between threads for recovery.
/// </summary>
public sealed partial class LibSecp256k1Recovery : ISecp256k1Recovery
{
    private const string Library = "libsecp256k1.so.1";
    private const uint ContextVerify = 0x101;
    private const uint Uncompressed = 0x2;
    private readonly IntPtr _context;

    private LibSecp256k1Recovery(IntPtr context) => _context = context;

    public string Name => "libsecp256k1";

    /// <summary>Null when the library (or its recovery module) is not installed.</summary>
    public static LibSecp256k1Recovery? TryCreate()
    {
        if (!NativeLibrary.TryLoad(Library, typeof(LibSecp256k1Recovery).Assembly, DllImportSearchPath.SafeDirectories, out var handle)
            || !NativeLibrary.TryGetExport(handle, "secp256k1_ecdsa_recover", out _))
        {
            return null;
        }

        var context = ContextCreate(ContextVerify);
        return context == IntPtr.Zero ? null : new LibSecp256k1Recovery(context);
    }

    public byte[]? Recover(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> rs, int recoveryId)
    {
        if (digest.Length != 32 || rs.Length != 64 || recoveryId is < 0 or > 3)
        {
            return null;
        }

        var signature = new byte[65];
        var publicKey = new byte[64];
        if (ParseCompact(_context, signature, rs.ToArray(), recoveryId) != 1
            || RecoverKey(_context, publicKey, signature, digest.ToArray()) != 1)
        {
            return null;
        }

        var output = new byte[65];
        nuint length = 65;
        return Serialize(_context, output, ref length, publicKey, Uncompressed) == 1 && length == 65 ? output : null;
    }

    [LibraryImport(Library, EntryPoint = "secp256k1_context_create")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial IntPtr ContextCreate(uint flags);

    [LibraryImport(Library, EntryPoint = "secp256k1_ecdsa_recoverable_signature_parse_compact")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int ParseCompact(IntPtr context, [Out] byte[] signature, byte[] input64, int recoveryId);

    [LibraryImport(Library, EntryPoint = "secp256k1_ecdsa_recover")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int RecoverKey(IntPtr context, [Out] byte[] publicKey, byte[] signature, byte[] digest32);

    [LibraryImport(Library, EntryPoint = "secp256k1_ec_pubkey_serialize")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Serialize(IntPtr context, [Out] byte[] output, ref nuint outputLength, byte[] publicKey, uint flags);
}

/// <summary>
/// Recoverable ECDSA signing with libsecp256k1 (RFC 6979 nonces, low s): what wallets produce, at about 1/60 of
/// BouncyCastle's cost — the cluster benchmark signs every transaction its users send. Nodes never sign for users.
/// </summary>
public sealed partial class LibSecp256k1Signer
{
    private const string Library = "libsecp256k1.so.1";

    // SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY; libsecp256k1 0.2+ ignores the bits, older versions need SIGN.
    private const uint ContextSignAndVerify = 0x301;
    private readonly IntPtr _context;

    private LibSecp256k1Signer(IntPtr context) => _context = context;

    private static readonly Lazy<LibSecp256k1Signer?> Shared = new(Create);

    /// <summary>Null when the library (or its recovery module) is not installed.</summary>
    public static LibSecp256k1Signer? Instance => Shared.Value;

    private static LibSecp256k1Signer? Create()
    {
        if (!NativeLibrary.TryLoad(Library, typeof(LibSecp256k1Signer).Assembly, DllImportSearchPath.SafeDirectories, out var handle)
            || !NativeLibrary.TryGetExport(handle, "secp256k1_ecdsa_sign_recoverable", out _))
        {
            return null;
        }

        var context = ContextCreate(ContextSignAndVerify);
        return context == IntPtr.Zero ? null : new LibSecp256k1Signer(context);
    }

    /// <summary>r ‖ s and the recovery id of the signature of <paramref name="digest"/> by <paramref name="secret"/>.</summary>
    public (byte[] Rs, int RecoveryId) Sign(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> secret)
    {
        if (digest.Length != 32 || secret.Length != 32)
        {
            throw new ArgumentException("secp256k1 signs a 32-byte digest with a 32-byte secret.");
        }

        var signature = new byte[65];
        var rs = new byte[64];
        // Signing may only fail for a secret outside 1..n-1, which an EvmKey never holds; the context is only read here,
        // so one is shared between threads.
        if (SignRecoverable(_context, signature, digest.ToArray(), secret.ToArray(), IntPtr.Zero, IntPtr.Zero) != 1
            || SerializeCompact(_context, rs, out var recoveryId, signature) != 1)
        {
            throw new System.Security.Cryptography.CryptographicException("libsecp256k1 refused to sign with this secret.");
        }

        return (rs, recoveryId);
    }

    [LibraryImport(Library, EntryPoint = "secp256k1_context_create")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial IntPtr ContextCreate(uint flags);

    [LibraryImport(Library, EntryPoint = "secp256k1_ecdsa_sign_recoverable")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SignRecoverable(IntPtr context, [Out] byte[] signature, byte[] digest32, byte[] secret32, IntPtr nonceFunction, IntPtr nonceData);

    [LibraryImport(Library, EntryPoint = "secp256k1_ecdsa_recoverable_signature_serialize_compact")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SerializeCompact(IntPtr context, [Out] byte[] output64, out int recoveryId, byte[] signature);
}

/// <summary>
/// Public-key recovery in managed code (SEC 1 §4.1.6) over BouncyCastle's curve arithmetic, for machines without
/// libsecp256k1: R is rebuilt from r and the parity in the recovery id, then Q = r⁻¹(sR − eG).
/// </summary>
public sealed class BouncyCastleRecovery : ISecp256k1Recovery
{
    private static readonly Org.BouncyCastle.Asn1.X9.X9ECParameters Curve = SecNamedCurves.GetByName("secp256k1");

    public string Name => "BouncyCastle";

    public byte[]? Recover(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> rs, int recoveryId)
    {
        if (digest.Length != 32 || rs.Length != 64 || recoveryId is < 0 or > 3)
        {
            return null;
        }

        var n = Curve.N;
        var r = new BcBigInteger(1, rs[..32]);
        var s = new BcBigInteger(1, rs[32..]);
        if (r.SignValue == 0 || s.SignValue == 0 || r.CompareTo(n) >= 0 || s.CompareTo(n) >= 0)
        {
            return null;
        }

        var x = r.Add(n.Multiply(BcBigInteger.ValueOf(recoveryId / 2)));
        var prime = ((FpCurve)Curve.Curve).Q;
        if (x.CompareTo(prime) >= 0)
        {
            return null;
        }

        ECPoint point;
        try
        {
            var encoded = new byte[33];
            encoded[0] = (byte)((recoveryId & 1) == 0 ? 0x02 : 0x03);
            var xBytes = x.ToByteArrayUnsigned();
            xBytes.CopyTo(encoded, 33 - xBytes.Length);
            point = Curve.Curve.DecodePoint(encoded);
        }
        catch (ArgumentException)
        {
            return null;
        }

        var e = new BcBigInteger(1, digest);
        var rInverse = r.ModInverse(n);
        var q = ECAlgorithms.SumOfTwoMultiplies(Curve.G, rInverse.Multiply(e).Negate().Mod(n), point, rInverse.Multiply(s).Mod(n)).Normalize();
        return q.IsInfinity ? null : q.GetEncoded(compressed: false);
    }
}

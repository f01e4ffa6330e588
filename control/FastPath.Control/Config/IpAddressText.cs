using System.Globalization;
using System.Net;

namespace FastPath.Control.Config;

/// <summary>
/// The one parser of IP address text from outside (config, maps files, control requests, command options).
/// IPv4 is canonical dotted decimal only: four decimal numbers 0-255 without leading zeros. inet_aton and
/// <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> also accept octal (<c>010.1.1.1</c> is 8.1.1.1),
/// hex (<c>0x0a.0.0.1</c>) and short forms (<c>10.1</c>), so one text would name different addresses to
/// different readers. IPv6 takes no scope (<c>%eth0</c>), and an embedded IPv4 tail is held to the same rule.
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
public static class IpAddressText
{
    /// <summary>Parses <paramref name="text"/>; false when it is not a canonical address.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.IsEmpty || text.Length > 45 || text.Contains('%'))
        {
            return false;
        }

        int colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            if (!IsCanonicalDottedQuad(text))
            {
                return false;
            }
        }
        else
        {
            ReadOnlySpan<char> tail = text[(colon + 1)..];
            if (tail.Contains('.') && !IsCanonicalDottedQuad(tail))
            {
                return false;
            }

            foreach (char c in text[..colon])
            {
                if (!char.IsAsciiHexDigit(c) && c != ':')
                {
                    return false;
                }
            }
        }

        if (!IPAddress.TryParse(text, out IPAddress? parsed))
        {
            return false;
        }

        address = parsed;
        return true;
    }

    /// <summary>Parses <c>ADDRESS:PORT</c> (IPv6 in brackets) with a canonical address and a port 1-65535.</summary>
    public static bool TryParseEndPoint(ReadOnlySpan<char> text, out IPEndPoint endPoint)
    {
        endPoint = null!;
        int colon = text.LastIndexOf(':');
        if (colon <= 0)
        {
            return false;
        }

        ReadOnlySpan<char> host = text[..colon];
        if (host.StartsWith("[") && host.EndsWith("]"))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':'))
        {
            return false;
        }

        if (!TryParse(host, out IPAddress address)
            || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        return true;
    }

    /// <summary>Four decimal numbers 0-255 separated by dots, none with a leading zero (other than "0" itself).</summary>
    public static bool IsCanonicalDottedQuad(ReadOnlySpan<char> text)
    {
        int parts = 0;
        while (true)
        {
            int dot = text.IndexOf('.');
            ReadOnlySpan<char> part = dot < 0 ? text : text[..dot];
            if (part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0'))
            {
                return false;
            }

            int value = 0;
            foreach (char c in part)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }

                value = (value * 10) + (c - '0');
            }

            if (value > 255)
            {
                return false;
            }

            parts++;
            if (dot < 0)
            {
                return parts == 4;
            }

            text = text[(dot + 1)..];
        }
    }
}

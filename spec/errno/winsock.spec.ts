import { LIBUV } from '../../lib/errno/libuv';
import { WINSOCK } from '../../lib/errno/winsock';
import { duplicates, expectCategory, NAME } from './rows';

/**
 * The appendix ("socket error codes from the 'errno' module", Python on Windows) of Robert
 * Amesz, "The joys and jilts of non-blocking sockets", python-list, 5 May 2001, verbatim:
 * number, names.
 */
const APPENDIX = `
10004 WSAEINTR
10009 WSAEBADF
10013 WSAEACCES
10014 WSAEFAULT
10022 WSAEINVAL
10024 WSAEMFILE
10035 EWOULDBLOCK WSAEWOULDBLOCK
10036 EINPROGRESS WSAEINPROGRESS
10037 EALREADY WSAEALREADY
10038 ENOTSOCK WSAENOTSOCK
10039 EDESTADDRREQ WSAEDESTADDRREQ
10040 EMSGSIZE WSAEMSGSIZE
10041 EPROTOTYPE WSAEPROTOTYPE
10042 ENOPROTOOPT WSAENOPROTOOPT
10043 EPROTONOSUPPORT WSAEPROTONOSUPPORT
10044 ESOCKTNOSUPPORT WSAESOCKTNOSUPPORT
10045 EOPNOTSUPP WSAEOPNOTSUPP
10046 EPFNOSUPPORT WSAEPFNOSUPPORT
10047 EAFNOSUPPORT WSAEAFNOSUPPORT
10048 EADDRINUSE WSAEADDRINUSE
10049 EADDRNOTAVAIL WSAEADDRNOTAVAIL
10050 ENETDOWN WSAENETDOWN
10051 ENETUNREACH WSAENETUNREACH
10052 ENETRESET WSAENETRESET
10053 ECONNABORTED WSAECONNABORTED
10054 ECONNRESET WSAECONNRESET
10055 ENOBUFS WSAENOBUFS
10056 EISCONN WSAEISCONN
10057 ENOTCONN WSAENOTCONN
10058 ESHUTDOWN WSAESHUTDOWN
10059 ETOOMANYREFS WSAETOOMANYREFS
10060 ETIMEDOUT WSAETIMEDOUT
10061 ECONNREFUSED WSAECONNREFUSED
10062 ELOOP WSAELOOP
10063 WSAENAMETOOLONG
10064 EHOSTDOWN WSAEHOSTDOWN
10065 EHOSTUNREACH WSAEHOSTUNREACH
10066 WSAENOTEMPTY
10067 WSAEPROCLIM
10068 EUSERS WSAEUSERS
10069 EDQUOT WSAEDQUOT
10070 ESTALE WSAESTALE
10071 EREMOTE WSAEREMOTE
10091 WSASYSNOTREADY
10092 WSAVERNOTSUPPORTED
10093 WSANOTINITIALISED
10101 WSAEDISCON
`.trim().split('\n').map((line) => {
  const [number, ...names] = line.split(' ');
  return [Number(number), names] as const;
});

describe('Winsock table', () => {
  it.each(WINSOCK.map((row) => [row.number, row.names.join('/'), row] as const))(
    '%i (%s) has a WSA name last, a published category, and a libuv translation libuv has',
    (_number, _names, row) => {
      expect(Number.isInteger(row.number) && row.number > 0).toBe(true);
      for (const name of row.names) expect(name).toMatch(NAME);
      expect(row.names[row.names.length - 1]).toMatch(/^WSA/);
      expectCategory(row.category);
      if (row.libuv !== null) expect(LIBUV.some((uv) => uv.name === row.libuv)).toBe(true);
      expect(row.message).not.toBe('');
    },
  );

  it('has one row per number and each name once', () => {
    expect(duplicates(WINSOCK.map((row) => row.number))).toEqual([]);
    expect(duplicates(WINSOCK.flatMap((row) => row.names))).toEqual([]);
  });

  it.each(APPENDIX)('lists %i from the 2001 report appendix as %j', (number, names) => {
    expect(WINSOCK.find((row) => row.number === number)?.names).toEqual(names);
  });

  it("follows libuv's Windows translation (src/win/error.c) for the codes Node reports", () => {
    const translation = (number: number) => WINSOCK.find((row) => row.number === number)?.libuv;
    expect(translation(10061)).toBe('ECONNREFUSED');
    expect(translation(10035)).toBe('EAGAIN');
    expect(translation(10022)).toBe('EINVAL');
    expect(translation(10004)).toBe('ECANCELED');
    expect(translation(10058)).toBe('EPIPE');
    expect(translation(11001)).toBe('EAI_NONAME');
    expect(translation(10036)).toBeNull();
  });
});

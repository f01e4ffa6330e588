#!/usr/bin/python3
"""Logging proxy for the swtpm socket protocol: listens on PORT (commands) and PORT+1 (control),
forwards to swtpm on UPSTREAM and UPSTREAM+1, and prints one line per command/response
(command code, handles, session handles, response code). Used to confirm what tpm2-tools sends.

usage: tpm-proxy.py LISTEN_PORT UPSTREAM_PORT [LOGFILE]
"""
import socket, struct, sys, threading

CC = {0x11f:'NV_UndefineSpaceSpecial',0x120:'EvictControl',0x121:'HierarchyControl',0x122:'NV_UndefineSpace',
0x124:'ChangeEPS',0x125:'ChangePPS',0x126:'Clear',0x127:'ClearControl',0x128:'ClockSet',0x129:'HierarchyChangeAuth',
0x12a:'NV_DefineSpace',0x12b:'PCR_Allocate',0x12c:'PCR_SetAuthPolicy',0x12d:'PP_Commands',0x12e:'SetPrimaryPolicy',
0x131:'CreatePrimary',0x132:'NV_GlobalWriteLock',0x133:'GetCommandAuditDigest',0x134:'NV_Increment',0x135:'NV_SetBits',
0x136:'NV_Extend',0x137:'NV_Write',0x138:'NV_WriteLock',0x139:'DictionaryAttackLockReset',0x13a:'DictionaryAttackParameters',
0x13b:'NV_ChangeAuth',0x13c:'PCR_Event',0x13d:'PCR_Reset',0x13e:'SequenceComplete',0x13f:'SetAlgorithmSet',
0x140:'SetCommandCodeAuditStatus',0x142:'IncrementalSelfTest',0x143:'SelfTest',0x144:'Startup',0x145:'Shutdown',
0x146:'StirRandom',0x147:'ActivateCredential',0x148:'Certify',0x149:'PolicyNV',0x14a:'CertifyCreation',0x14b:'Duplicate',
0x14c:'GetTime',0x14d:'GetSessionAuditDigest',0x14e:'NV_Read',0x14f:'NV_ReadLock',0x150:'ObjectChangeAuth',
0x151:'PolicySecret',0x152:'Rewrap',0x153:'Create',0x154:'ECDH_ZGen',0x155:'HMAC',0x156:'Import',0x157:'Load',
0x158:'Quote',0x159:'RSA_Decrypt',0x15b:'HMAC_Start',0x15c:'SequenceUpdate',0x15d:'Sign',0x15e:'Unseal',
0x160:'PolicySigned',0x161:'ContextLoad',0x162:'ContextSave',0x163:'ECDH_KeyGen',0x164:'EncryptDecrypt',
0x165:'FlushContext',0x167:'LoadExternal',0x168:'MakeCredential',0x169:'NV_ReadPublic',0x16a:'PolicyAuthorize',
0x16b:'PolicyAuthValue',0x16c:'PolicyCommandCode',0x16d:'PolicyCounterTimer',0x16e:'PolicyCpHash',
0x16f:'PolicyLocality',0x170:'PolicyNameHash',0x171:'PolicyOR',0x172:'PolicyTicket',0x173:'ReadPublic',
0x174:'RSA_Encrypt',0x176:'StartAuthSession',0x177:'VerifySignature',0x178:'ECC_Parameters',0x179:'FirmwareRead',
0x17a:'GetCapability',0x17b:'GetRandom',0x17c:'GetTestResult',0x17d:'Hash',0x17e:'PCR_Read',0x17f:'PolicyPCR',
0x180:'PolicyRestart',0x181:'ReadClock',0x182:'PCR_Extend',0x183:'PCR_SetAuthValue',0x184:'NV_Certify',
0x185:'EventSequenceComplete',0x186:'HashSequenceStart',0x187:'PolicyPhysicalPresence',0x188:'PolicyDuplicationSelect',
0x189:'PolicyGetDigest',0x18a:'TestParms',0x18b:'Commit',0x18c:'PolicyPassword',0x18d:'ZGen_2Phase',
0x18e:'EC_Ephemeral',0x18f:'PolicyNvWritten',0x190:'PolicyTemplate',0x191:'CreateLoaded',0x192:'PolicyAuthorizeNV',
0x193:'EncryptDecrypt2',0x194:'AC_GetCapability',0x195:'AC_Send',0x196:'Policy_AC_SendSelect',0x197:'CertifyX509',
0x198:'ACT_SetTimeout'}
# Number of handles in the handle area per command (TPM 2.0 Part 3).
NH = {0x122:2,0x126:1,0x129:1,0x12a:1,0x134:2,0x135:2,0x136:2,0x137:2,0x13c:1,0x13d:1,0x13e:1,0x146:0,0x14e:2,
0x15c:1,0x161:0,0x162:1,0x165:0,0x169:1,0x176:2,0x182:1,0x120:2,0x131:1,0x153:1,0x157:1,0x15e:1,0x173:1,
0x158:1,0x15d:1,0x17f:1,0x189:1,0x18c:1,0x16b:1,0x144:0,0x145:0}

lock = threading.Lock()
log = open(sys.argv[3], 'a') if len(sys.argv) > 3 else sys.stdout

def describe_cmd(b):
    if len(b) < 10: return 'short %s' % b.hex()
    tag, size, cc = struct.unpack('>HII', b[:10])
    nh = NH.get(cc, 0)
    hs = [struct.unpack('>I', b[10+4*i:14+4*i])[0] for i in range(nh) if 14+4*i <= len(b)]
    s = '%s tag=%04x handles=[%s]' % (CC.get(cc, hex(cc)), tag, ' '.join('%08x' % h for h in hs))
    if tag == 0x8002:
        o = 10 + 4*nh
        asz = struct.unpack('>I', b[o:o+4])[0]; o += 4; end = o + asz; sess = []
        while o < end:
            h = struct.unpack('>I', b[o:o+4])[0]; o += 4
            nl = struct.unpack('>H', b[o:o+2])[0]; o += 2 + nl
            attr = b[o]; o += 1
            hl = struct.unpack('>H', b[o:o+2])[0]; o += 2 + hl
            sess.append('%08x/attr=%02x/nonce=%d/hmac=%d' % (h, attr, nl, hl))
        s += ' auth=[%s] params=%s' % (', '.join(sess), b[end:].hex()[:80])
    else:
        s += ' params=%s' % b[10+4*nh:].hex()[:80]
    return s

def pump(src, dst, tag, name):
    try:
        while True:
            d = src.recv(65536)
            if not d: break
            with lock:
                if name == 'cmd' and tag == '>': log.write('CMD  %s\n' % describe_cmd(d))
                elif name == 'cmd': log.write('RSP  rc=%08x len=%d %s\n' % (struct.unpack('>I', d[6:10])[0] if len(d) >= 10 else 0xffffffff, len(d), d[10:].hex()[:120]))
                else: log.write('CTRL %s %s\n' % (tag, d.hex()))
                log.flush()
            dst.sendall(d)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass

def serve(lport, uport, name):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', lport)); ls.listen(16)
    while True:
        c, _ = ls.accept()
        u = socket.create_connection(('127.0.0.1', uport))
        threading.Thread(target=pump, args=(c, u, '>', name), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, '<', name), daemon=True).start()

lp, up = int(sys.argv[1]), int(sys.argv[2])
threading.Thread(target=serve, args=(lp + 1, up + 1, 'ctrl'), daemon=True).start()
serve(lp, up, 'cmd')

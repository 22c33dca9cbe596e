/* crc32c.h: CRC-32C (Castagnoli), as in iSCSI, ext4 and LevelDB. */
#ifndef SMSUP_CRC32C_H
#define SMSUP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t	crc32c(uint32_t, const void *, size_t);

#endif

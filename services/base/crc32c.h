/*  crc32c.h - CRC-32C (Castagnoli), the checksum of the journal's records
    and confirm marks: the CPU's instruction where it has one, tables
    (slicing by 8) elsewhere.
*/
#ifndef DT_CRC32C_H
#define DT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

//  The CRC of data, continuing from crc (start with 0)
uint32_t dt_crc32c (uint32_t crc, const void *data, size_t len);

//  The same from tables only (tests compare the two)
uint32_t dt_crc32c_portable (uint32_t crc, const void *data, size_t len);

#endif

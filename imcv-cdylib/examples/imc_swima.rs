//! `libimc_swima.so`: the imc_swima as an IF-IMC C plugin (see the crate README).

if_imc::export_imc!(try imcv_cdylib::swima_imc());

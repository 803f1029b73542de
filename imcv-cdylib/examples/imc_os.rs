//! `libimc_os.so`: the imc_os as an IF-IMC C plugin (see the crate README).

if_imc::export_imc!(imcv_cdylib::os_imc());
